// Kascade prefill anchor (Deshmukh, Goyal, Kwatra, Ramjee, arXiv 2512.16391; SPEC 2.2): tile-level
// selection on tensor cores (mma.sync m16n8k16, fp32 accumulation).
//
// Queries are cut into tiles of 32 absolute positions; the tile starting at t0 scores every key
// n < t0 per KV head by the sum, over the tile's queries (those among the last T) and the group's
// query heads, of the full causal softmax probability exp(s * scale - lse). It keeps the top
// k_t = min(max(kMin, ceil(fraction * t0)), t0) keys (ties to the lower position, ascending output);
// a tile with k_t = t0 keeps every earlier key (dense).
//
// One block owns one tile and one KV head: warp w holds the tile's 32 positions of query head
// g * GROUP + w (two 16-row m-tiles), so a block holds 32 * GROUP rows and sums its columns with
// shuffles and one shared-memory pass: no atomics, no per-head buffers.
//   anchor_lse:    per-row log-sum-exp over keys 0 ... p (the softmax denominators, no value product)
//   anchor_scores: pooled probabilities of one chunk of tiles into scores [B, G, chunkTiles, stride]
//   anchor_select: radix top-k of each row of the chunk into idx [B, G, rows, cap], counts [B, G, rows]
// The selection feeds prefill_reuse (prefill_attention.cu) with the identity head map.
//
// q [B, H, T, d]; k [B, G, capacity, d]; lse [B, H, T] fp32 natural log; bottom-right causal
// (query t sits at position N - T + t). Definitions: KV_BF16, HEAD_DIM (64, 128), GROUP (1 ... 8).

constexpr int D = HEAD_DIM;
constexpr int WARPS = GROUP;
constexpr int THREADS = WARPS * 32;
constexpr int BM = 32 * WARPS;                // rows of a block: 32 positions x GROUP heads
constexpr int BN = 64;                        // keys per shared-memory tile
constexpr int ROW_BYTES = D * 2;
constexpr int ROW_STRIDE = ROW_BYTES + 16;    // padded rows: conflict-free ldmatrix
constexpr int CHUNKS = ROW_BYTES / 16;
constexpr int KSTEPS = D / 16;
constexpr int ST = BN / 8;
constexpr float LOG2E = 1.4426950408889634f;
constexpr float LN2 = 0.6931471805599453f;

/// Keys a tile starting at t0 keeps: min(max(kMin, ceil(fraction * t0)), t0) (SPEC 2, rolling).
__device__ __forceinline__ int tile_budget(int t0, double fraction, int kMin) {
    if (t0 <= 0) return 0;
    long long want = (long long)ceil(fraction * (double)t0);
    long long k = want > kMin ? want : kMin;
    return (int)(k < t0 ? k : t0);
}

// Shared-memory plan of both passes: the block's query rows, then two stages of BN key rows,
// then (scores) GROUP x BN partial column sums.
struct TileGeometry {
    int t0, shift, b, g, H;
};

/// Loads the block's queries (row r: head g * GROUP + r / 32, position t0 + r % 32; zeros outside
/// the last T positions).
__device__ __forceinline__ void load_queries(unsigned char* qs, const kv_t* q, const TileGeometry& tg, int T, int N) {
    for (int c = threadIdx.x; c < BM * CHUNKS; c += THREADS) {
        int r = c / CHUNKS, col = c % CHUNKS;
        int w = r / 32, p = tg.t0 + (r & 31);
        bool valid = p >= tg.shift && p < N;
        const kv_t* src = q + (((long long)tg.b * tg.H + tg.g * GROUP + w) * T + (valid ? p - tg.shift : 0)) * D + col * 8;
        cp_async16(qs + r * ROW_STRIDE + col * 16, src, valid);
    }
}

/// Loads keys n0 ... n0 + BN - 1 (zeros at n >= limit) into stage `stage`.
__device__ __forceinline__ void load_keys(unsigned char* ks, const kv_t* kb, int n0, int limit, int stage) {
    #pragma unroll
    for (int c = threadIdx.x; c < BN * CHUNKS; c += THREADS) {
        int r = c / CHUNKS, col = c % CHUNKS;
        int n = n0 + r;
        bool valid = n < limit;
        cp_async16(ks + (size_t)(stage * BN + r) * ROW_STRIDE + col * 16, kb + (long long)(valid ? n : 0) * D + col * 8, valid);
    }
}

/// S = Q K^T of this warp's 32 rows and the stage's BN keys (raw dot products).
__device__ __forceinline__ void tile_scores(float (&s)[2][ST][4], const unsigned char* qs, const unsigned char* kt) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    #pragma unroll
    for (int mt = 0; mt < 2; ++mt) {
        #pragma unroll
        for (int nt = 0; nt < ST; ++nt) s[mt][nt][0] = s[mt][nt][1] = s[mt][nt][2] = s[mt][nt][3] = 0.f;
    }
    #pragma unroll
    for (int kk = 0; kk < KSTEPS; kk += 2) {
        unsigned qa[2][2][4];
        const int mi = lane >> 3;
        #pragma unroll
        for (int mt = 0; mt < 2; ++mt) {
            #pragma unroll
            for (int h = 0; h < 2; ++h)
                ldmatrix_x4(qa[mt][h], qs + (warp * 32 + mt * 16 + (mi & 1) * 8 + (lane & 7)) * ROW_STRIDE + ((kk + h) * 16 + (mi >> 1) * 8) * 2);
        }
        #pragma unroll
        for (int nt = 0; nt < ST; ++nt) {
            unsigned bf[4];
            ldmatrix_x4(bf, kt + (nt * 8 + (lane & 7)) * ROW_STRIDE + (kk * 16 + (lane >> 3) * 8) * 2);
            #pragma unroll
            for (int mt = 0; mt < 2; ++mt) {
                mma16816(s[mt][nt], qa[mt][0], bf[0], bf[1]);
                mma16816(s[mt][nt], qa[mt][1], bf[2], bf[3]);
            }
        }
    }
}

// Per-row log-sum-exp of causal attention, over keys 0 ... p for the row at position p: grid
// (rows, G, B) with rows the tiles covering the last T positions, THREADS threads, dynamic shared
// memory (BM + 2 BN) * ROW_STRIDE. Longest tiles first.
extern "C" __global__ void __launch_bounds__(THREADS)
anchor_lse(const kv_t* __restrict__ q, const kv_t* __restrict__ k, long long kvBatchStride, long long kvHeadStride,
           int T, int N, float scale, float* __restrict__ lse)
{
    extern __shared__ __align__(128) unsigned char smem[];
    unsigned char* qs = smem;
    unsigned char* ks = smem + BM * ROW_STRIDE;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    TileGeometry tg;
    tg.shift = N - T; tg.b = blockIdx.z; tg.g = blockIdx.y; tg.H = gridDim.y * GROUP;
    tg.t0 = (tg.shift / 32 + (gridDim.x - 1 - blockIdx.x)) * 32;
    const int nEnd = min(tg.t0 + 32, N);
    const int ntiles = (nEnd + BN - 1) / BN;
    const kv_t* kb = k + tg.b * kvBatchStride + tg.g * kvHeadStride;

    load_queries(qs, q, tg, T, N);
    load_keys(ks, kb, 0, nEnd, 0);
    cp_async_commit();

    float mrow[2][2], lrow[2][2];
    int pos[2][2];
    #pragma unroll
    for (int mt = 0; mt < 2; ++mt) {
        mrow[mt][0] = mrow[mt][1] = NEG_INF;
        lrow[mt][0] = lrow[mt][1] = 0.f;
        pos[mt][0] = tg.t0 + mt * 16 + (lane >> 2);
        pos[mt][1] = pos[mt][0] + 8;
    }
    const float sl2 = scale * LOG2E;
    for (int j = 0; j < ntiles; ++j) {
        if (j + 1 < ntiles) load_keys(ks, kb, (j + 1) * BN, nEnd, (j + 1) & 1);
        cp_async_commit();
        cp_async_wait<1>();
        __syncthreads();
        float s[2][ST][4];
        tile_scores(s, qs, ks + (j & 1) * BN * ROW_STRIDE);
        const int n0 = j * BN;
        const bool masked = n0 + BN > tg.t0;
        #pragma unroll
        for (int mt = 0; mt < 2; ++mt) {
            float mx[2] = {mrow[mt][0], mrow[mt][1]};
            #pragma unroll
            for (int nt = 0; nt < ST; ++nt) {
                #pragma unroll
                for (int e = 0; e < 4; ++e) {
                    float x = s[mt][nt][e] * sl2;
                    if (masked) {
                        int n = n0 + nt * 8 + (lane & 3) * 2 + (e & 1);
                        if (n > pos[mt][e >> 1] || n >= N) x = NEG_INF;
                    }
                    s[mt][nt][e] = x;
                    mx[e >> 1] = fmaxf(mx[e >> 1], x);
                }
            }
            float rs[2] = {0.f, 0.f};
            #pragma unroll
            for (int r = 0; r < 2; ++r) {
                mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
                mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
            }
            #pragma unroll
            for (int nt = 0; nt < ST; ++nt) {
                #pragma unroll
                for (int e = 0; e < 4; ++e) rs[e >> 1] += fast_exp2(s[mt][nt][e] - mx[e >> 1]);
            }
            #pragma unroll
            for (int r = 0; r < 2; ++r) {
                lrow[mt][r] = lrow[mt][r] * fast_exp2(mrow[mt][r] - mx[r]) + rs[r];   // exp2(-inf) = 0 at first
                mrow[mt][r] = mx[r];
            }
        }
        __syncthreads();
    }
    cp_async_wait<0>();
    float* lb = lse + ((long long)tg.b * tg.H + tg.g * GROUP + warp) * (long long)T;
    #pragma unroll
    for (int mt = 0; mt < 2; ++mt) {
        #pragma unroll
        for (int r = 0; r < 2; ++r) {
            float l = lrow[mt][r];
            l += __shfl_xor_sync(0xffffffffu, l, 1);
            l += __shfl_xor_sync(0xffffffffu, l, 2);
            const int p = pos[mt][r];
            if ((lane & 3) == 0 && p >= tg.shift && p < N) lb[p - tg.shift] = (mrow[mt][r] + __log2f(l)) * LN2;
        }
    }
}

// Pooled probabilities of tiles tileLo ... tileLo + chunkTiles - 1 (selection rows; tile r starts at
// t0 = ((N - T) / 32 + r) * 32): scores[((b G + g) chunkTiles + r - tileLo) stride + n] for n < t0.
// Tiles that keep every earlier key are skipped. Grid (chunkTiles, G, B), THREADS threads, dynamic
// shared memory (BM + 2 BN) * ROW_STRIDE + GROUP * BN * 4. Longest tiles first.
extern "C" __global__ void __launch_bounds__(THREADS)
anchor_scores(const kv_t* __restrict__ q, const kv_t* __restrict__ k, long long kvBatchStride, long long kvHeadStride,
              int T, int N, float scale, const float* __restrict__ lse, int tileLo, int chunkTiles,
              float* __restrict__ scores, long long stride, long long fractionBits, int kMin)
{
    extern __shared__ __align__(128) unsigned char smem[];
    unsigned char* qs = smem;
    unsigned char* ks = smem + BM * ROW_STRIDE;
    float* red = reinterpret_cast<float*>(ks + 2 * BN * ROW_STRIDE);      // [GROUP][BN]
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    TileGeometry tg;
    tg.shift = N - T; tg.b = blockIdx.z; tg.g = blockIdx.y; tg.H = gridDim.y * GROUP;
    const int r = tileLo + (chunkTiles - 1 - (int)blockIdx.x);
    tg.t0 = (tg.shift / 32 + r) * 32;
    const int t0 = tg.t0;
    if (tile_budget(t0, __longlong_as_double(fractionBits), kMin) >= t0) return;   // dense tile: nothing to rank
    const int ntiles = (t0 + BN - 1) / BN;
    const kv_t* kb = k + tg.b * kvBatchStride + tg.g * kvHeadStride;
    float* out = scores + (((long long)tg.b * gridDim.y + tg.g) * chunkTiles + (r - tileLo)) * stride;

    load_queries(qs, q, tg, T, N);
    load_keys(ks, kb, 0, t0, 0);
    cp_async_commit();

    // log2-domain log-sum-exp of this thread's rows; +inf hides rows outside the last T positions.
    float l2[2][2];
    const float* lrow = lse + ((long long)tg.b * tg.H + tg.g * GROUP + warp) * (long long)T;
    #pragma unroll
    for (int mt = 0; mt < 2; ++mt) {
        #pragma unroll
        for (int h = 0; h < 2; ++h) {
            int p = t0 + mt * 16 + (lane >> 2) + 8 * h;
            l2[mt][h] = (p >= tg.shift && p < N) ? lrow[p - tg.shift] * LOG2E : POS_INF;
        }
    }
    const float sl2 = scale * LOG2E;
    for (int j = 0; j < ntiles; ++j) {
        if (j + 1 < ntiles) load_keys(ks, kb, (j + 1) * BN, t0, (j + 1) & 1);
        cp_async_commit();
        cp_async_wait<1>();
        __syncthreads();
        float s[2][ST][4];
        tile_scores(s, qs, ks + (j & 1) * BN * ROW_STRIDE);
        const int n0 = j * BN;
        const bool masked = n0 + BN > t0;
        // Column sums of exp2(s * scale * log2e - lse2) over the thread's 4 rows, then the warp's 32.
        float cs[ST][2];
        #pragma unroll
        for (int nt = 0; nt < ST; ++nt) {
            #pragma unroll
            for (int c = 0; c < 2; ++c) {
                float acc = 0.f;
                #pragma unroll
                for (int mt = 0; mt < 2; ++mt) {
                    #pragma unroll
                    for (int h = 0; h < 2; ++h) acc += fast_exp2(fmaf(s[mt][nt][2 * h + c], sl2, -l2[mt][h]));
                }
                if (masked && n0 + nt * 8 + (lane & 3) * 2 + c >= t0) acc = 0.f;
                acc += __shfl_xor_sync(0xffffffffu, acc, 4);
                acc += __shfl_xor_sync(0xffffffffu, acc, 8);
                acc += __shfl_xor_sync(0xffffffffu, acc, 16);
                cs[nt][c] = acc;
            }
        }
        if (lane < 4) {
            #pragma unroll
            for (int nt = 0; nt < ST; ++nt) {
                red[warp * BN + nt * 8 + lane * 2] = cs[nt][0];
                red[warp * BN + nt * 8 + lane * 2 + 1] = cs[nt][1];
            }
        }
        __syncthreads();                       // also: every warp is done with this key stage
        for (int c = threadIdx.x; c < BN; c += THREADS) {
            float acc = 0.f;
            #pragma unroll
            for (int w = 0; w < WARPS; ++w) acc += red[w * BN + c];
            if (n0 + c < t0) out[n0 + c] = acc;
        }
    }
    cp_async_wait<0>();
}

// ---- per-row radix top-k (1024 threads; float bits of non-negative scores order like the values)

constexpr int SEL_THREADS = 1024;
constexpr int BINS = 2048;

/// Exclusive prefix sum over the block; returns the block total through `total`.
__device__ __forceinline__ int block_exclusive_scan(int x, int* warpSums, int& total) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    int inc = x;
    #pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
        int y = __shfl_up_sync(0xffffffffu, inc, o);
        if (lane >= o) inc += y;
    }
    if (lane == 31) warpSums[warp] = inc;
    __syncthreads();
    if (warp == 0) {
        int w = warpSums[lane];
        int wi = w;
        #pragma unroll
        for (int o = 1; o < 32; o <<= 1) {
            int y = __shfl_up_sync(0xffffffffu, wi, o);
            if (lane >= o) wi += y;
        }
        warpSums[lane] = wi - w;
        if (lane == 31) warpSums[32] = wi;
    }
    __syncthreads();
    int res = warpSums[warp] + inc - x;
    total = warpSums[32];
    __syncthreads();
    return res;
}

/// The bin holding the `need`-th largest (1-based) of hist[0 ..< bins] (bins <= 2 * SEL_THREADS),
/// scanning from the top: sel = (bin, rank still needed inside it).
__device__ __forceinline__ void pick_bin(const int* hist, int bins, int need, int* sel, int* warpSums) {
    const int t = threadIdx.x;
    const int hiBin = bins - 1 - 2 * t, loBin = hiBin - 1;
    const int ch = hiBin >= 0 ? hist[hiBin] : 0, cl = loBin >= 0 ? hist[loBin] : 0;
    int total;
    const int above = block_exclusive_scan(ch + cl, warpSums, total);
    if (hiBin >= 0 && above < need && need <= above + ch) { sel[0] = hiBin; sel[1] = need - above; }
    else if (loBin >= 0 && above + ch < need && need <= above + ch + cl) { sel[0] = loBin; sel[1] = need - above - ch; }
    __syncthreads();
}

/// Histogram of the digit (u >> shift) & mask of the row's keys whose bits above `shift + width`
/// equal `prefix` (all keys when `topShift` is 32).
__device__ __forceinline__ void row_histogram(int* h, const float* prow, int n, int bins, int shift, int topShift, unsigned prefix) {
    for (int i = threadIdx.x; i < bins; i += SEL_THREADS) h[i] = 0;
    __syncthreads();
    const int nRound = (n + 4 * SEL_THREADS - 1) / (4 * SEL_THREADS) * (4 * SEL_THREADS);
    for (int i = threadIdx.x * 4; i < nRound; i += 4 * SEL_THREADS) {
        float4 p = i < n ? *reinterpret_cast<const float4*>(prow + i) : make_float4(0.f, 0.f, 0.f, 0.f);
        unsigned u[4] = {__float_as_uint(p.x), __float_as_uint(p.y), __float_as_uint(p.z), __float_as_uint(p.w)};
        #pragma unroll
        for (int e = 0; e < 4; ++e) {
            bool in = i + e < n && (topShift >= 32 || (u[e] >> topShift) == (prefix >> topShift));
            hist_add(h, (u[e] >> shift) & (unsigned)(bins - 1), in);
        }
    }
    __syncthreads();
}

// Top-k_t of each row of one chunk: grid (chunkTiles, G, B), 1024 threads. Row r = tileLo + x of
// KV head g reads scores[((b G + g) chunkTiles + x) stride ...] (t0 values) and writes k_t ascending
// positions to idx[((b G + g) rows + r) cap ...] and k_t to counts[(b G + g) rows + r]; a tile with
// k_t = t0 writes 0 ... t0 - 1 without reading scores.
extern "C" __global__ void __launch_bounds__(SEL_THREADS)
anchor_select(const float* __restrict__ scores, long long stride, int tileLo, int chunkTiles, int T, int N,
              long long fractionBits, int kMin, int* __restrict__ idx, int* __restrict__ counts, int rows, int cap)
{
    __shared__ int h[BINS];
    __shared__ int warpSums[33];
    __shared__ int sel[2];
    const int x = blockIdx.x, g = blockIdx.y, b = blockIdx.z, G = gridDim.y;
    const int tid = threadIdx.x;
    const int r = tileLo + x;
    const int t0 = ((N - T) / 32 + r) * 32;
    const int n = t0;
    const int kk = tile_budget(t0, __longlong_as_double(fractionBits), kMin);
    int* irow = idx + (((long long)b * G + g) * rows + r) * (long long)cap;
    if (tid == 0) counts[((long long)b * G + g) * rows + r] = kk;
    if (kk >= n) {
        for (int i = tid; i < n; i += SEL_THREADS) irow[i] = i;
        return;
    }
    const float* prow = scores + (((long long)b * G + g) * chunkTiles + x) * stride;

    row_histogram(h, prow, n, BINS, 21, 32, 0u);
    pick_bin(h, BINS, kk, sel, warpSums);
    unsigned prefix = (unsigned)sel[0] << 21;
    int need = sel[1];
    row_histogram(h, prow, n, BINS, 10, 21, prefix);
    pick_bin(h, BINS, need, sel, warpSums);
    prefix |= (unsigned)sel[0] << 10;
    need = sel[1];
    row_histogram(h, prow, n, 1024, 0, 10, prefix);
    pick_bin(h, 1024, need, sel, warpSums);
    const unsigned thr = prefix | (unsigned)sel[0];
    const int takeEq = sel[1];                // keys equal to the threshold to keep, lowest first

    // Compaction: each thread owns a contiguous segment (a multiple of 4); one scan orders the output.
    const int seg = ((n + SEL_THREADS - 1) / SEL_THREADS + 3) / 4 * 4;
    const int lo = min(n, tid * seg), hi = min(n, lo + seg);
    int gt = 0, eq = 0;
    for (int i = lo; i < hi; i += 4) {
        float4 p = *reinterpret_cast<const float4*>(prow + i);
        unsigned u[4] = {__float_as_uint(p.x), __float_as_uint(p.y), __float_as_uint(p.z), __float_as_uint(p.w)};
        #pragma unroll
        for (int e = 0; e < 4; ++e) if (i + e < hi) { gt += u[e] > thr; eq += u[e] == thr; }
    }
    int tot;
    const int gtBefore = block_exclusive_scan(gt, warpSums, tot);
    const int eqBefore = block_exclusive_scan(eq, warpSums, tot);
    int at = gtBefore + min(eqBefore, takeEq);
    int eqLeft = max(0, takeEq - eqBefore);
    for (int i = lo; i < hi; i += 4) {
        float4 p = *reinterpret_cast<const float4*>(prow + i);
        unsigned u[4] = {__float_as_uint(p.x), __float_as_uint(p.y), __float_as_uint(p.z), __float_as_uint(p.w)};
        #pragma unroll
        for (int e = 0; e < 4; ++e) {
            if (i + e < hi && (u[e] > thr || (u[e] == thr && eqLeft > 0))) {
                if (u[e] == thr) --eqLeft;
                irow[at++] = i + e;
            }
        }
    }
}

// Kascade's pooled variant: one chunk's tile scores summed over the KV heads (so over every query
// head of the layer), for anchor_select launched with one KV head: scores [B, G, rowFloats] ->
// pooled [B, rowFloats], rowFloats = chunkTiles * stride. Grid (blocks, B), any block size.
extern "C" __global__ void anchor_pool_heads(const float* __restrict__ scores, float* __restrict__ pooled,
                                             long long rowFloats, int G)
{
    const int b = blockIdx.y;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < rowFloats; i += (long long)gridDim.x * blockDim.x) {
        float s = 0.f;
        for (int g = 0; g < G; ++g) s += scores[((long long)b * G + g) * rowFloats + i];
        pooled[(long long)b * rowFloats + i] = s;
    }
}
