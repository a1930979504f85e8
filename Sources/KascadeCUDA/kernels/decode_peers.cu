// Decode kernels of the peer methods on the GPU: Quest (Tang et al., arXiv 2406.10774), Twilight
// (Lin et al., arXiv 2502.02770) and vAttention (Desai et al., arXiv 2510.05688).
//
// Compile-time definitions (NVRTC -D): KV_BF16 (1: bf16, 0: fp16), HEAD_DIM (64 or 128), GROUP
// (query heads per KV head, 1..16).
//
// Every method marks what each query head reads in a per-(sequence, KV head) mask of 32-bit words:
// bit hh selects the key (or page) for query head g * GROUP + hh, bit 16 + hh marks it as sampled
// (vAttention). peer_attend_* then reads each marked key and value row once for the whole group
// (split over the positions, flash-decoding style) and peer_combine merges the splits.
//
// This file holds the shared layouts and helpers, Quest's page bounds and the radix selection;
// decode_peers_twilight_vattention.cu and decode_peers_attend.cu follow it in the same NVRTC unit.
//
// Layouts: q [B, H, D]; k, v [B, G, cap, D]; pmin, pmax [B, G, pageCap, D] (element type, exact);
// codes [B, G, tokCap, D/2] (two 4-bit codes a byte: byte j of each 16-dimension block holds
// dimension j low and j + 8 high), qscale, qzero [B, G, tokCap] fp32; page scores [B, H, rowStride];
// est [B, H, rowStride] fp32; logits [B, G, rowStride, GROUP] fp32; partO [B, H, S, D]; partML [B, H, S].

constexpr int D = HEAD_DIM;
constexpr int PAGE = 16;
constexpr int DL = D / 32;                     // dimensions per lane when a warp holds one row
constexpr unsigned FULL = 0xffffffffu;
constexpr unsigned GROUP_BITS = (1u << GROUP) - 1u;
constexpr unsigned long long GOLDEN = 0x9E3779B97F4A7C15ull;

__device__ __forceinline__ kv_t from_float(float x) {
#if KV_BF16
    return __float2bfloat16(x);
#else
    return __float2half(x);
#endif
}

/// The DL elements of a row a lane holds (dimensions lane * DL ...).
__device__ __forceinline__ void load_lane(const kv_t* row, int lane, float* x) {
    if (DL == 4) {
        uint2 u = *reinterpret_cast<const uint2*>(row + lane * 4);
        float2 a = unpack2(u.x), b = unpack2(u.y);
        x[0] = a.x; x[1] = a.y; x[2] = b.x; x[3] = b.y;
    } else {
        unsigned u = *reinterpret_cast<const unsigned*>(row + lane * 2);
        float2 a = unpack2(u);
        x[0] = a.x; x[1] = a.y;
    }
}

__device__ __forceinline__ float warp_sum(float x) {
    #pragma unroll
    for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(FULL, x, o);
    return x;
}

__device__ __forceinline__ float warp_max(float x) {
    #pragma unroll
    for (int o = 16; o > 0; o >>= 1) x = fmaxf(x, __shfl_xor_sync(FULL, x, o));
    return x;
}

__device__ __forceinline__ float warp_min(float x) {
    #pragma unroll
    for (int o = 16; o > 0; o >>= 1) x = fminf(x, __shfl_xor_sync(FULL, x, o));
    return x;
}

/// Exclusive prefix sum over a block of any warp multiple; `total` gets the block sum.
/// `warpSums` holds 33 ints of shared memory.
__device__ __forceinline__ int block_scan(int x, int* warpSums, int& total) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    int inc = x;
    #pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
        int y = __shfl_up_sync(FULL, inc, o);
        if (lane >= o) inc += y;
    }
    if (lane == 31) warpSums[warp] = inc;
    __syncthreads();
    if (warp == 0) {
        int w = lane < warps ? warpSums[lane] : 0;
        int wi = w;
        #pragma unroll
        for (int o = 1; o < 32; o <<= 1) {
            int y = __shfl_up_sync(FULL, wi, o);
            if (lane >= o) wi += y;
        }
        if (lane < warps) warpSums[lane] = wi - w;
        if (lane == 31) warpSums[32] = wi;
    }
    __syncthreads();
    int r = warpSums[warp] + inc - x;
    total = warpSums[32];
    __syncthreads();
    return r;
}

/// Block-wide reductions through `red` (32 floats of shared memory); every thread gets the result.
__device__ __forceinline__ float block_sum(float x, float* red) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    x = warp_sum(x);
    if (lane == 0) red[warp] = x;
    __syncthreads();
    float y = lane < warps ? red[lane] : 0.f;
    y = warp_sum(y);
    __syncthreads();
    return y;
}

__device__ __forceinline__ float block_max(float x, float* red) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    x = warp_max(x);
    if (lane == 0) red[warp] = x;
    __syncthreads();
    float y = lane < warps ? red[lane] : NEG_INF;
    y = warp_max(y);
    __syncthreads();
    return y;
}

// ---------------------------------------------------------------------------------------------
// Quest page bounds.

/// Element-wise min and max of pages pageFrom ..< pageFrom + gridDim.x of the first n keys:
/// grid (pages, G, B), D threads. A build uses pageFrom = 0; an append recomputes the pages its new
/// positions touch (at most 16 rows each).
extern "C" __global__ void quest_pages(const kv_t* __restrict__ k, long long kvBatchStride, long long kvHeadStride,
                                       kv_t* __restrict__ pmin, kv_t* __restrict__ pmax, long long pageCap,
                                       int n, int pageFrom)
{
    grid_dependency_sync();
    const int p = pageFrom + blockIdx.x, g = blockIdx.y, b = blockIdx.z, G = gridDim.y;
    const kv_t* kr = k + b * kvBatchStride + g * kvHeadStride;
    const long long o = (((long long)b * G + g) * pageCap + p) * D;
    const int start = p * PAGE, end = min(n, start + PAGE);
    for (int i = threadIdx.x; i < D; i += blockDim.x) {
        float lo = POS_INF, hi = NEG_INF;
        for (int r = start; r < end; ++r) {
            float x = to_float(kr[(long long)r * D + i]);
            lo = fminf(lo, x); hi = fmaxf(hi, x);
        }
        pmin[o + i] = from_float(lo);
        pmax[o + i] = from_float(hi);
    }
}

constexpr int SCORE_THREADS = 128;
constexpr int SCORE_PAGES = 64;                        // a page per thread pair (the halves of the dims)
constexpr int SCORE_CHUNKS = D * 2 / 16;               // 16-byte pieces of a row
constexpr int SCORE_ROW = D * 2 + 16;                  // padded row bytes: conflict-free 16-byte reads

/// Shared memory of quest_page_scores, bytes: the block's bounds rows, then q split by sign.
constexpr int SCORE_SHARED = 2 * SCORE_PAGES * SCORE_ROW + 2 * GROUP * D * 4;

/// Quest page scores sum_i max(q_i max_i, q_i min_i) of pages 0 ..< pages for the group's heads,
/// computed as sum_i (q_i+ max_i + q_i- min_i) (q_i+ = max(q_i, 0), q_i- = min(q_i, 0); the same
/// terms): grid (ceil(pages / 64), G, B), 128 threads, SCORE_SHARED bytes of dynamic shared memory.
/// The block's 64 pages of bounds are copied to shared memory with cp.async at once; thread t scores
/// page t % 64 over half t / 64 of the dimensions, with no shuffles, and the halves meet in shared
/// memory.
extern "C" __global__ void __launch_bounds__(SCORE_THREADS) quest_page_scores(
    const kv_t* __restrict__ q, const kv_t* __restrict__ pmin, const kv_t* __restrict__ pmax, long long pageCap,
    int pages, float* __restrict__ scores, long long scoreStride)
{
    grid_dependency_sync();
    extern __shared__ __align__(16) unsigned char sp[];
    float* qpos = reinterpret_cast<float*>(sp + 2 * SCORE_PAGES * SCORE_ROW);   // [GROUP][D]
    float* qneg = qpos + GROUP * D;
    float* half1 = reinterpret_cast<float*>(sp);          // [GROUP][SCORE_PAGES], after the rows are read
    const int g = blockIdx.y, b = blockIdx.z, G = gridDim.y, H = G * GROUP;
    const int tid = threadIdx.x;
    const long long base = ((long long)b * G + g) * pageCap;
    const int first = blockIdx.x * SCORE_PAGES;
    for (int c = tid; c < 2 * SCORE_PAGES * SCORE_CHUNKS; c += SCORE_THREADS) {
        const int which = c / (SCORE_PAGES * SCORE_CHUNKS), rest = c % (SCORE_PAGES * SCORE_CHUNKS);
        const int r = rest / SCORE_CHUNKS, col = rest % SCORE_CHUNKS;
        const bool valid = first + r < pages;
        const kv_t* src = (which ? pmax : pmin) + (base + (valid ? first + r : 0)) * D + col * 8;
        cp_async16(sp + (which * SCORE_PAGES + r) * SCORE_ROW + col * 16, src, valid);
    }
    cp_async_commit();
    for (int i = tid; i < GROUP * D; i += SCORE_THREADS) {
        const float x = to_float(q[((long long)b * H + g * GROUP) * D + i]);
        qpos[i] = fmaxf(x, 0.f);
        qneg[i] = fminf(x, 0.f);
    }
    cp_async_wait<0>();
    __syncthreads();
    const int r = tid % SCORE_PAGES, half = tid / SCORE_PAGES;
    const unsigned char* lo = sp + r * SCORE_ROW;
    const unsigned char* hi = sp + (SCORE_PAGES + r) * SCORE_ROW;
    float s[GROUP];
    #pragma unroll
    for (int hh = 0; hh < GROUP; ++hh) s[hh] = 0.f;
    #pragma unroll 2
    for (int col = half * SCORE_CHUNKS / 2; col < (half + 1) * SCORE_CHUNKS / 2; ++col) {
        const uint4 a = *reinterpret_cast<const uint4*>(lo + col * 16);
        const uint4 c = *reinterpret_cast<const uint4*>(hi + col * 16);
        float l[8], h[8];
        float2 t;
        t = unpack2(a.x); l[0] = t.x; l[1] = t.y; t = unpack2(a.y); l[2] = t.x; l[3] = t.y;
        t = unpack2(a.z); l[4] = t.x; l[5] = t.y; t = unpack2(a.w); l[6] = t.x; l[7] = t.y;
        t = unpack2(c.x); h[0] = t.x; h[1] = t.y; t = unpack2(c.y); h[2] = t.x; h[3] = t.y;
        t = unpack2(c.z); h[4] = t.x; h[5] = t.y; t = unpack2(c.w); h[6] = t.x; h[7] = t.y;
        #pragma unroll
        for (int hh = 0; hh < GROUP; ++hh) {
            const float4* pp = reinterpret_cast<const float4*>(qpos + hh * D + col * 8);
            const float4* nn = reinterpret_cast<const float4*>(qneg + hh * D + col * 8);
            const float4 p0 = pp[0], p1 = pp[1], n0 = nn[0], n1 = nn[1];
            float x = s[hh];
            x = fmaf(p0.x, h[0], x); x = fmaf(n0.x, l[0], x); x = fmaf(p0.y, h[1], x); x = fmaf(n0.y, l[1], x);
            x = fmaf(p0.z, h[2], x); x = fmaf(n0.z, l[2], x); x = fmaf(p0.w, h[3], x); x = fmaf(n0.w, l[3], x);
            x = fmaf(p1.x, h[4], x); x = fmaf(n1.x, l[4], x); x = fmaf(p1.y, h[5], x); x = fmaf(n1.y, l[5], x);
            x = fmaf(p1.z, h[6], x); x = fmaf(n1.z, l[6], x); x = fmaf(p1.w, h[7], x); x = fmaf(n1.w, l[7], x);
            s[hh] = x;
        }
    }
    __syncthreads();                                       // the rows are read: their space takes half 1
    if (half == 1) {
        #pragma unroll
        for (int hh = 0; hh < GROUP; ++hh) half1[hh * SCORE_PAGES + r] = s[hh];
    }
    __syncthreads();
    if (half == 0 && first + r < pages) {
        #pragma unroll
        for (int hh = 0; hh < GROUP; ++hh)
            scores[((long long)b * H + g * GROUP + hh) * scoreStride + first + r] = s[hh] + half1[hh * SCORE_PAGES + r];
    }
}

// ---------------------------------------------------------------------------------------------
// Radix selection (three digits of 11, 11 and 10 bits over 32-bit keys, largest first; among keys
// equal to the threshold the lowest units first).

constexpr int SEL_THREADS = 1024;
constexpr int BINS = 2048;

/// Order-preserving key of a float: a larger key ranks ahead; NaN is 0 (last), -0 counts as +0.
__device__ __forceinline__ unsigned rank_key(float x) {
    if (x != x) return 0u;
    unsigned b = x == 0.f ? 0u : __float_as_uint(x);
    return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

/// The bin holding the need-th largest among hist[0 ..< bins] (bins <= 2 * blockDim.x), with the
/// count still needed inside it, into sel[0], sel[1].
__device__ __forceinline__ void pick_bin(const int* hist, int bins, int need, int* sel, int* warpSums) {
    const int t = threadIdx.x;
    const int hiBin = bins - 1 - 2 * t, loBin = hiBin - 1;
    const int ch = hiBin >= 0 ? hist[hiBin] : 0, cl = loBin >= 0 ? hist[loBin] : 0;
    int total;
    const int above = block_scan(ch + cl, warpSums, total);
    if (hiBin >= 0 && above < need && need <= above + ch) { sel[0] = hiBin; sel[1] = need - above; }
    else if (loBin >= 0 && above + ch < need && need <= above + ch + cl) { sel[0] = loBin; sel[1] = need - above - ch; }
    __syncthreads();
}

/// Finds the k-th largest key of units 0 ..< count (1 <= k <= valid units): `thr` and how many keys
/// equal to it belong to the top k (`takeEq`). keyOf(i, valid&) gives a unit's key.
template <class KeyOf>
__device__ void radix_threshold(const KeyOf& keyOf, int count, int k, int* h, int* warpSums, int* sel,
                                unsigned& thr, int& takeEq)
{
    const int tid = threadIdx.x;
    const int rounded = (count + blockDim.x - 1) / blockDim.x * blockDim.x;
    unsigned prefix = 0, pmask = 0;
    int need = k;
    #pragma unroll 1
    for (int pass = 0; pass < 3; ++pass) {
        const int shift = pass == 0 ? 21 : (pass == 1 ? 10 : 0);
        const int bins = pass == 2 ? 1024 : 2048;
        for (int i = tid; i < BINS; i += blockDim.x) h[i] = 0;
        __syncthreads();
        for (int i = tid; i < rounded; i += blockDim.x) {
            bool valid = false;
            unsigned key = i < count ? keyOf(i, valid) : 0u;
            bool active = i < count && valid && (key & pmask) == prefix;
            hist_add(h, (key >> shift) & (unsigned)(bins - 1), active);
        }
        __syncthreads();
        pick_bin(h, bins, need, sel, warpSums);
        prefix |= (unsigned)sel[0] << shift;
        pmask |= (unsigned)(bins - 1) << shift;
        need = sel[1];
    }
    thr = prefix;
    takeEq = need;
}

/// Calls mark(i) for each of the top-k units given the threshold: every key above it and the first
/// `takeEq` keys equal to it in unit order. Each thread scans a contiguous segment.
template <class KeyOf, class Mark>
__device__ void radix_mark(const KeyOf& keyOf, const Mark& mark, int count, unsigned thr, int takeEq, int* warpSums)
{
    const int seg = (count + blockDim.x - 1) / blockDim.x;
    const int lo = min(count, (int)threadIdx.x * seg), hi = min(count, lo + seg);
    int eq = 0;
    for (int i = lo; i < hi; ++i) { bool v = false; unsigned key = keyOf(i, v); eq += v && key == thr; }
    int tot;
    const int eqBefore = block_scan(eq, warpSums, tot);
    int eqLeft = max(0, takeEq - eqBefore);
    for (int i = lo; i < hi; ++i) {
        bool v = false;
        unsigned key = keyOf(i, v);
        if (!v) continue;
        if (key > thr) mark(i);
        else if (key == thr && eqLeft > 0) { --eqLeft; mark(i); }
    }
}

/// Top-k selection per query head into mask bits: units lo ..< lo + count of the score row
/// scores + b * sB + g * sG + hh * sHH (element u at u * elem) compete for k places; units
/// 0 ..< alwaysLo and alwaysHi ..< alwaysEnd are always marked. Marks bit hh of mask[b, g, unit].
/// grid (GROUP, G, B), 1024 threads. The mask must start cleared of this head's bit.
extern "C" __global__ void __launch_bounds__(SEL_THREADS) peer_select(
    const float* __restrict__ scores, long long sB, long long sG, long long sHH, int elem,
    int lo, int count, int k, int alwaysLo, int alwaysHi, int alwaysEnd,
    unsigned* __restrict__ mask, long long maskStride)
{
    grid_dependency_sync();
    __shared__ int h[BINS];
    __shared__ int warpSums[33];
    __shared__ int sel[2];
    const int hh = blockIdx.x, g = blockIdx.y, b = blockIdx.z, G = gridDim.y;
    const float* row = scores + b * sB + g * sG + hh * sHH;
    unsigned* mrow = mask + ((long long)b * G + g) * maskStride;
    const unsigned bit = 1u << hh;
    for (int i = threadIdx.x; i < alwaysLo; i += blockDim.x) atomicOr(&mrow[i], bit);
    for (int i = alwaysHi + threadIdx.x; i < alwaysEnd; i += blockDim.x) atomicOr(&mrow[i], bit);
    if (k <= 0 || count <= 0) return;
    if (k >= count) {
        for (int i = threadIdx.x; i < count; i += blockDim.x) atomicOr(&mrow[lo + i], bit);
        return;
    }
    auto keyOf = [&](int i, bool& valid) -> unsigned { valid = true; return rank_key(row[(long long)(lo + i) * elem]); };
    unsigned thr; int takeEq;
    radix_threshold(keyOf, count, k, h, warpSums, sel, thr, takeEq);
    radix_mark(keyOf, [&](int i) { atomicOr(&mrow[lo + i], bit); }, count, thr, takeEq, warpSums);
}

