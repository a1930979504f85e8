// Attention over the keys the peer methods marked, the list compaction, the combine step, and the
// peaked benchmark inputs. Compiled after common.cuh, decode_peers.cu and
// decode_peers_twilight_vattention.cu (one NVRTC unit, see KernelSource).

// ---------------------------------------------------------------------------------------------
// Attention over the marked keys of each KV head (all GROUP heads of the group in one block).

constexpr int AT_THREADS = 128;
constexpr int AT_WARPS = AT_THREADS / 32;
constexpr int TILE = 32;
constexpr int STAGES = 3;
constexpr int SEG = AT_THREADS * 16;            // positions compacted at a time (16 a thread)
constexpr int ROW_BYTES = D * 2;
constexpr int ROW_STRIDE = ROW_BYTES + 16;
constexpr int CHUNKS = ROW_BYTES / 16;
constexpr int HEAD_SETS = AT_THREADS / TILE;
constexpr int HEADS_PER_THREAD = (GROUP + HEAD_SETS - 1) / HEAD_SETS;
constexpr int HEADS_PER_WARP = (GROUP + AT_WARPS - 1) / AT_WARPS;
constexpr int QUADS = GROUP * D / 4;
constexpr int QUADS_PER_THREAD = (QUADS + AT_THREADS - 1) / AT_THREADS;

/// One split of attention over the keys whose mask word has a group bit (after >> shift); PAGED: one
/// word per page of 16 positions, else one per position. The work comes in units of 16 positions:
/// LIST: units are the pages plist[b, g, 0 ..< pcount[b, g]] (ascending), dealt out evenly to the first
/// min(gridDim.x, ceil(count / minPer)) splits (the others write empty partials); else split s covers
/// positions s * chunk ..< +chunk (chunk a multiple of 16).
/// With `bias`, bias[b, h] is added to every score (vAttention's log(n_s / b) on sampled keys).
template <bool PAGED, bool LIST>
__device__ __forceinline__ void peer_attend(
    const kv_t* __restrict__ q, const kv_t* __restrict__ k, const kv_t* __restrict__ v,
    long long kvBatchStride, long long kvHeadStride, const unsigned* __restrict__ mask, long long maskStride,
    int shift, const float* __restrict__ bias, int n, int chunk, float scale,
    float* __restrict__ partO, float2* __restrict__ partML, int splitOffset, int totalSplits,
    const int* __restrict__ plist, const int* __restrict__ pcount, long long listStride, int minPer)
{
    extern __shared__ __align__(16) unsigned char smem[];
    float* qs = reinterpret_cast<float*>(smem);                  // [GROUP][D]
    float* ps = qs + GROUP * D;                                    // [GROUP][TILE]
    float* alphas = ps + GROUP * TILE;                             // [16]
    float* biases = alphas + 16;                                   // [16]
    int* lpos = reinterpret_cast<int*>(biases + 16);               // [SEG]
    unsigned* lbits = reinterpret_cast<unsigned*>(lpos + SEG);     // [SEG]
    int* warpSums = reinterpret_cast<int*>(lbits + SEG);           // [36]
    unsigned char* ks = reinterpret_cast<unsigned char*>(warpSums + 36);
    ks = reinterpret_cast<unsigned char*>((reinterpret_cast<size_t>(ks) + 15) & ~size_t(15));
    unsigned char* vs = ks + STAGES * TILE * ROW_STRIDE;

    const int split = blockIdx.x, g = blockIdx.y, b = blockIdx.z, G = gridDim.y;
    const int H = G * GROUP;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    int uBegin, uEnd;
    const int* units = nullptr;
    if (LIST) {
        const int count = pcount[(long long)b * G + g];
        const int used = max(1, min((int)gridDim.x, (count + minPer - 1) / minPer));
        const int per = (count + used - 1) / used;
        uBegin = min(count, split * per);
        uEnd = min(count, uBegin + per);
        units = plist + ((long long)b * G + g) * listStride;
    } else {
        uBegin = split * chunk / PAGE;
        uEnd = (min(n, split * chunk + chunk) + PAGE - 1) / PAGE;
    }

    for (int i = tid; i < GROUP * D; i += AT_THREADS)
        qs[i] = to_float(q[((long long)b * H + g * GROUP) * D + i]) * scale;
    if (tid < GROUP) biases[tid] = bias ? bias[(long long)b * H + g * GROUP + tid] : 0.f;
    const kv_t* kb = k + b * kvBatchStride + g * kvHeadStride;
    const kv_t* vb = v + b * kvBatchStride + g * kvHeadStride;
    const unsigned* mrow = mask + ((long long)b * G + g) * maskStride;

    float m_run[HEADS_PER_WARP], l_run[HEADS_PER_WARP];
    #pragma unroll
    for (int i = 0; i < HEADS_PER_WARP; ++i) { m_run[i] = NEG_INF; l_run[i] = 0.f; }
    float acc[QUADS_PER_THREAD][4];
    #pragma unroll
    for (int i = 0; i < QUADS_PER_THREAD; ++i) { acc[i][0] = acc[i][1] = acc[i][2] = acc[i][3] = 0.f; }

    for (int u0 = uBegin; u0 < uEnd; u0 += AT_THREADS) {
        // Compact this thread's unit (16 positions) into the list.
        const int ui = u0 + tid;
        const bool live = ui < uEnd;
        const int t0 = live ? (LIST ? units[ui] : ui) * PAGE : n;
        unsigned words[16];
        int cnt = 0;
        if (PAGED) {
            const unsigned w = t0 < n ? (mrow[t0 / PAGE] >> shift) & GROUP_BITS : 0u;
            #pragma unroll
            for (int j = 0; j < 16; ++j) { words[j] = (t0 + j < n) ? w : 0u; cnt += words[j] != 0u; }
        } else {
            #pragma unroll
            for (int j = 0; j < 16; ++j) {
                words[j] = t0 + j < n ? (mrow[t0 + j] >> shift) & GROUP_BITS : 0u;
                cnt += words[j] != 0u;
            }
        }
        int total;
        int at = block_scan(cnt, warpSums, total);
        #pragma unroll
        for (int j = 0; j < 16; ++j) {
            if (words[j]) { lpos[at] = t0 + j; lbits[at] = words[j]; ++at; }
        }
        __syncthreads();

        auto load_tile = [&](int t, int stage) {
            #pragma unroll
            for (int c = tid; c < TILE * CHUNKS; c += AT_THREADS) {
                const int r = c / CHUNKS, col = c % CHUNKS;
                const int j = t * TILE + r;
                const bool valid = j < total;
                const long long pos = valid ? (long long)lpos[j] : 0;
                const size_t off = (size_t)(stage * TILE + r) * ROW_STRIDE + col * 16;
                cp_async16(ks + off, kb + pos * D + col * 8, valid);
                cp_async16(vs + off, vb + pos * D + col * 8, valid);
            }
        };
        const int ntiles = (total + TILE - 1) / TILE;
        #pragma unroll
        for (int st = 0; st < STAGES - 1; ++st) {
            if (st < ntiles) load_tile(st, st);
            cp_async_commit();
        }
        for (int t = 0; t < ntiles; ++t) {
            const int stage = t % STAGES;
            cp_async_wait<STAGES - 2>();
            __syncthreads();
            {
                const int nt = t + STAGES - 1;
                if (nt < ntiles) load_tile(nt, nt % STAGES);
                cp_async_commit();
            }
            // Scores: thread -> key r, heads hs, hs + HEAD_SETS, ...
            {
                const int r = tid % TILE, hs = tid / TILE;
                const int j = t * TILE + r;
                const unsigned bits = j < total ? lbits[j] : 0u;
                const unsigned char* krow = ks + (size_t)(stage * TILE + r) * ROW_STRIDE;
                float s[HEADS_PER_THREAD][2];
                #pragma unroll
                for (int i = 0; i < HEADS_PER_THREAD; ++i) { s[i][0] = 0.f; s[i][1] = 0.f; }
                #pragma unroll 4
                for (int col = 0; col < CHUNKS; ++col) {
                    uint4 u = *reinterpret_cast<const uint4*>(krow + col * 16);
                    float2 k0 = unpack2(u.x), k1 = unpack2(u.y), k2 = unpack2(u.z), k3 = unpack2(u.w);
                    #pragma unroll
                    for (int i = 0; i < HEADS_PER_THREAD; ++i) {
                        const int hd = hs + i * HEAD_SETS;
                        if (hd < GROUP) {
                            const float4* qp = reinterpret_cast<const float4*>(qs + hd * D + col * 8);
                            float4 a = qp[0], c = qp[1];
                            s[i][0] = fmaf(a.x, k0.x, s[i][0]); s[i][1] = fmaf(a.y, k0.y, s[i][1]);
                            s[i][0] = fmaf(a.z, k1.x, s[i][0]); s[i][1] = fmaf(a.w, k1.y, s[i][1]);
                            s[i][0] = fmaf(c.x, k2.x, s[i][0]); s[i][1] = fmaf(c.y, k2.y, s[i][1]);
                            s[i][0] = fmaf(c.z, k3.x, s[i][0]); s[i][1] = fmaf(c.w, k3.y, s[i][1]);
                        }
                    }
                }
                #pragma unroll
                for (int i = 0; i < HEADS_PER_THREAD; ++i) {
                    const int hd = hs + i * HEAD_SETS;
                    if (hd < GROUP) ps[hd * TILE + r] = (bits >> hd) & 1u ? s[i][0] + s[i][1] + biases[hd] : NEG_INF;
                }
            }
            __syncthreads();
            // Online softmax: warp w owns heads w, w + AT_WARPS, ...
            #pragma unroll
            for (int i = 0; i < HEADS_PER_WARP; ++i) {
                const int hd = warp + i * AT_WARPS;
                if (hd < GROUP) {
                    const float x = ps[hd * TILE + lane];
                    const float mx = warp_max(x);
                    const float mnew = fmaxf(m_run[i], mx);
                    const float alpha = mnew == NEG_INF ? 1.f : __expf(m_run[i] - mnew);
                    const float pe = x == NEG_INF ? 0.f : __expf(x - mnew);
                    ps[hd * TILE + lane] = pe;
                    const float sum = warp_sum(pe);
                    l_run[i] = l_run[i] * alpha + sum;
                    m_run[i] = mnew;
                    if (lane == 0) alphas[hd] = alpha;
                }
            }
            __syncthreads();
            #pragma unroll
            for (int i = 0; i < QUADS_PER_THREAD; ++i) {
                const int c = tid + i * AT_THREADS;
                if (c < QUADS) {
                    const int hd = c / (D / 4), d0 = (c % (D / 4)) * 4;
                    const float al = alphas[hd];
                    float a0 = acc[i][0] * al, a1 = acc[i][1] * al, a2 = acc[i][2] * al, a3 = acc[i][3] * al;
                    float b0 = 0.f, b1 = 0.f, b2 = 0.f, b3 = 0.f;
                    const float* ph = ps + hd * TILE;
                    const unsigned char* vcol = vs + (size_t)(stage * TILE) * ROW_STRIDE + d0 * 2;
                    #pragma unroll 4
                    for (int r = 0; r < TILE; r += 2) {
                        uint2 u = *reinterpret_cast<const uint2*>(vcol + (size_t)r * ROW_STRIDE);
                        uint2 w = *reinterpret_cast<const uint2*>(vcol + (size_t)(r + 1) * ROW_STRIDE);
                        float2 pp = *reinterpret_cast<const float2*>(ph + r);
                        float2 x = unpack2(u.x), y = unpack2(u.y), zz = unpack2(w.x), tt = unpack2(w.y);
                        a0 = fmaf(pp.x, x.x, a0); a1 = fmaf(pp.x, x.y, a1); a2 = fmaf(pp.x, y.x, a2); a3 = fmaf(pp.x, y.y, a3);
                        b0 = fmaf(pp.y, zz.x, b0); b1 = fmaf(pp.y, zz.y, b1); b2 = fmaf(pp.y, tt.x, b2); b3 = fmaf(pp.y, tt.y, b3);
                    }
                    acc[i][0] = a0 + b0; acc[i][1] = a1 + b1; acc[i][2] = a2 + b2; acc[i][3] = a3 + b3;
                }
            }
        }
        cp_async_wait<0>();
        __syncthreads();                          // the list and the tiles are free for the next segment
    }

    #pragma unroll
    for (int i = 0; i < QUADS_PER_THREAD; ++i) {
        const int c = tid + i * AT_THREADS;
        if (c < QUADS) {
            const int hd = c / (D / 4), d0 = (c % (D / 4)) * 4;
            float4* dst = reinterpret_cast<float4*>(
                partO + (((long long)b * H + g * GROUP + hd) * totalSplits + splitOffset + split) * D + d0);
            *dst = make_float4(acc[i][0], acc[i][1], acc[i][2], acc[i][3]);
        }
    }
    #pragma unroll
    for (int i = 0; i < HEADS_PER_WARP; ++i) {
        const int hd = warp + i * AT_WARPS;
        if (hd < GROUP && lane == 0)
            partML[((long long)b * H + g * GROUP + hd) * totalSplits + splitOffset + split] = make_float2(m_run[i], l_run[i]);
    }
}

/// Attention over marked pages (position splits): grid (S, G, B), 128 threads.
extern "C" __global__ void __launch_bounds__(AT_THREADS) peer_attend_pages(
    const kv_t* q, const kv_t* k, const kv_t* v, long long kvBatchStride, long long kvHeadStride,
    const unsigned* mask, long long maskStride, int shift, const float* bias, int n, int chunk, float scale,
    float* partO, float2* partML, int splitOffset, int totalSplits)
{
    grid_dependency_sync();
    peer_attend<true, false>(q, k, v, kvBatchStride, kvHeadStride, mask, maskStride, shift, bias, n, chunk, scale,
                             partO, partML, splitOffset, totalSplits, nullptr, nullptr, 0, 1);
}

/// Attention over marked positions (vAttention; position splits): grid (S, G, B), 128 threads.
extern "C" __global__ void __launch_bounds__(AT_THREADS) peer_attend_tokens(
    const kv_t* q, const kv_t* k, const kv_t* v, long long kvBatchStride, long long kvHeadStride,
    const unsigned* mask, long long maskStride, int shift, const float* bias, int n, int chunk, float scale,
    float* partO, float2* partML, int splitOffset, int totalSplits)
{
    grid_dependency_sync();
    peer_attend<false, false>(q, k, v, kvBatchStride, kvHeadStride, mask, maskStride, shift, bias, n, chunk, scale,
                              partO, partML, splitOffset, totalSplits, nullptr, nullptr, 0, 1);
}

/// Attention over the listed pages with the page mask's bits (Quest): grid (S, G, B), 128 threads.
extern "C" __global__ void __launch_bounds__(AT_THREADS) peer_attend_page_list(
    const kv_t* q, const kv_t* k, const kv_t* v, long long kvBatchStride, long long kvHeadStride,
    const unsigned* mask, long long maskStride, int n, float scale, float* partO, float2* partML, int totalSplits,
    const int* plist, const int* pcount, long long listStride, int minPer)
{
    grid_dependency_sync();
    peer_attend<true, true>(q, k, v, kvBatchStride, kvHeadStride, mask, maskStride, 0, nullptr, n, 0, scale,
                            partO, partML, 0, totalSplits, plist, pcount, listStride, minPer);
}

/// Attention over the positions of the listed pages with per-position bits (Twilight's kept keys):
/// grid (S, G, B), 128 threads.
extern "C" __global__ void __launch_bounds__(AT_THREADS) peer_attend_token_list(
    const kv_t* q, const kv_t* k, const kv_t* v, long long kvBatchStride, long long kvHeadStride,
    const unsigned* mask, long long maskStride, int n, float scale, float* partO, float2* partML, int totalSplits,
    const int* plist, const int* pcount, long long listStride, int minPer)
{
    grid_dependency_sync();
    peer_attend<false, true>(q, k, v, kvBatchStride, kvHeadStride, mask, maskStride, 0, nullptr, n, 0, scale,
                             partO, partML, 0, totalSplits, plist, pcount, listStride, minPer);
}

/// The pages of each (sequence, KV head) that any head of the group selected, ascending, into
/// plist[b, g, ...] and their count into pcount[b, g]: grid (G, B), 1024 threads.
extern "C" __global__ void __launch_bounds__(SEL_THREADS) peer_compact_pages(
    const unsigned* __restrict__ mask, long long maskStride, int pages, int* __restrict__ plist, long long listStride,
    int* __restrict__ pcount)
{
    grid_dependency_sync();
    __shared__ int warpSums[33];
    const int g = blockIdx.x, b = blockIdx.y, G = gridDim.x;
    const long long row = (long long)b * G + g;
    const unsigned* mrow = mask + row * maskStride;
    int* lrow = plist + row * listStride;
    int np = 0;
    for (int base = 0; base < pages; base += blockDim.x) {
        const int p = base + threadIdx.x;
        const int c = (p < pages && (mrow[p] & GROUP_BITS)) ? 1 : 0;
        int tot;
        const int at = np + block_scan(c, warpSums, tot);
        if (c) lrow[at] = p;
        np += tot;
    }
    if (threadIdx.x == 0) pcount[row] = np;
}

constexpr int MAX_SPLITS = 2048;

/// Merges the splits of each (sequence, query head): grid (H, B), min(D, 128) threads; out [B, H, D].
extern "C" __global__ void peer_combine(const float* partO, const float2* partML, int splits, float* out)
{
    grid_dependency_sync();
    __shared__ float wts[MAX_SPLITS];
    __shared__ float total;
    const int h = blockIdx.x, b = blockIdx.y, H = gridDim.x;
    const long long row = (long long)b * H + h;
    const float2* ml = partML + row * splits;
    float mx = NEG_INF;
    for (int s = 0; s < splits; ++s) mx = fmaxf(mx, ml[s].x);
    for (int s = threadIdx.x; s < splits; s += blockDim.x) {
        float2 p = ml[s];
        wts[s] = p.x == NEG_INF ? 0.f : __expf(p.x - mx);
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        float l = 0.f;
        for (int s = 0; s < splits; ++s) l += wts[s] * ml[s].y;
        total = l;
    }
    __syncthreads();
    const float inv = total > 0.f ? 1.f / total : 0.f;
    for (int d = threadIdx.x; d < D; d += blockDim.x) {
        float o = 0.f;
        for (int s = 0; s < splits; ++s) o += wts[s] * partO[(row * splits + s) * D + d];
        out[row * D + d] = o * inv;
    }
}

// ---------------------------------------------------------------------------------------------
// Peaked benchmark inputs: a few heavy keys per (sequence, KV head) aligned with a direction the
// group's queries share.

/// +1 or -1: dimension i of the shared direction of row bg (= b * G + g).
__device__ __forceinline__ float peak_dir(unsigned long long seed, long long bg, int i) {
    return (mix64(seed ^ ((unsigned long long)(bg * D + i) + 1) * GOLDEN) >> 63) ? 1.f : -1.f;
}

/// Adds c * w * dir(bg) to the heavy keys of rows 0 ..< rows of n positions each (k [rows, n, D], row r
/// belonging to (b, g) = r % bgCount): positions 0 ..< 4 (sinks) and n - 16 ..< n (recent) with w = 1, and
/// aligned runs of 8 positions chosen with probability `rate` (w uniform in [0.5, 1)).
/// Grid-stride over rows * n positions, a thread per position.
extern "C" __global__ void peaked_keys(kv_t* __restrict__ k, long long rows, int n, long long bgCount,
                                       unsigned long long seed, float rate, float c)
{
    grid_dependency_sync();
    const long long total = rows * n;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < total; t += (long long)gridDim.x * blockDim.x) {
        const long long r = t / n;
        const int pos = (int)(t % n);
        float w = 0.f;
        if (pos < 4 || pos >= n - 16) w = 1.f;
        else {
            const unsigned long long x = mix64((seed ^ 0x5bd1e995ull) + ((unsigned long long)(r * 1048576 + pos / 8) + 1) * GOLDEN);
            if ((float)(x >> 40) * (1.0f / 16777216.0f) < rate) w = 0.5f + 0.5f * (float)((x >> 8) & 0xffffu) * (1.0f / 65536.0f);
        }
        if (w == 0.f) continue;
        kv_t* row = k + t * D;
        const long long bg = r % bgCount;
        for (int i = 0; i < D; ++i) row[i] = from_float(to_float(row[i]) + c * w * peak_dir(seed, bg, i));
    }
}

/// Queries q [B, G * GROUP, D]: beta * (dir(b * G + g) + sigma * uniform(-1, 1)) for query head h of KV head
/// g = h / GROUP. Grid-stride over B * H * D elements.
extern "C" __global__ void peaked_queries(kv_t* __restrict__ q, int batch, int G, unsigned long long seed,
                                          float beta, float sigma)
{
    grid_dependency_sync();
    const int H = G * GROUP;
    const long long total = (long long)batch * H * D;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < total; t += (long long)gridDim.x * blockDim.x) {
        const int i = (int)(t % D);
        const long long bh = t / D;
        const int h = (int)(bh % H);
        const long long b = bh / H;
        const unsigned long long x = mix64((seed ^ 0x2545f491ull) + ((unsigned long long)t + 1) * GOLDEN);
        const float noise = (float)(x >> 40) * (1.0f / 16777216.0f) * 2.f - 1.f;
        q[t] = from_float(beta * (peak_dir(seed, b * G + h / GROUP, i) + sigma * noise));
    }
}
