// Decode attention over a KV cache (one query per sequence), split over the keys (flash-decoding)
// with a combine step (decode_combine in decode_topk.cu). Used by dense decode, Kascade's layer 0 and anchor scores (Deshmukh et al.,
// arXiv 2512.16391), and sparse attention over a per-KV-head index list (anchor output, reuse).
//
// Compile-time definitions (NVRTC -D): KV_BF16 (1: bf16, 0: fp16), HEAD_DIM (64 or 128), GROUP
// (query heads per KV head). One block serves one (split, KV head, sequence) and all GROUP query
// heads of the group, so each key and value row is read from memory once.
//
// Layouts: q [B, H, D]; k, v [B, G, cap, D] (strides given in elements); partO [B, H, S, D] fp32
// (unnormalised); partML [B, H, S] (running max, sum of exp); logits [B, G, rowStride, GROUP]
// fp32 (q.k * scale, the group's heads side by side per key); idx [B, Ga, rowStride] int32 positions.

constexpr int D = HEAD_DIM;
#ifndef TILE_KEYS
#define TILE_KEYS 64
#endif
constexpr int TILE = TILE_KEYS;               // keys per shared-memory tile (32 or 64)
constexpr int PER_LANE = TILE / 32;           // softmax entries per lane
constexpr int THREADS = 128;                  // 4 warps
constexpr int WARPS = THREADS / 32;
#ifndef PIPE_STAGES
#define PIPE_STAGES 2
#endif
constexpr int STAGES = PIPE_STAGES;           // cp.async pipeline depth (tiles in shared memory)
constexpr int ROW_BYTES = D * 2;
constexpr int ROW_STRIDE = ROW_BYTES + 16;    // padded: conflict-free column reads
constexpr int CHUNKS = ROW_BYTES / 16;        // 16-byte pieces per row
constexpr int HEAD_SETS = THREADS / TILE;     // threads per key in the score step
constexpr int HEADS_PER_THREAD = (GROUP + HEAD_SETS - 1) / HEAD_SETS;
constexpr int HEADS_PER_WARP = (GROUP + WARPS - 1) / WARPS;
constexpr int QUADS = GROUP * D / 4;          // 4-wide output pieces of the group
constexpr int QUADS_PER_THREAD = (QUADS + THREADS - 1) / THREADS;

// LOGITS_IN (gathers only, GROUP a multiple of 4): the scores of the listed keys are read from
// `logits` (the anchor's own scaled scores, row g) instead of recomputed from the keys, so only the
// value rows are gathered.
template <bool INDEXED, bool DO_PV, bool WRITE_LOGITS, bool LOGITS_IN = false>
__device__ __forceinline__ void decode_split(
    const kv_t* __restrict__ q, const kv_t* __restrict__ k, const kv_t* __restrict__ v,
    long long kvBatchStride, long long kvHeadStride,
    const int* __restrict__ idx, long long idxBatchStride, long long idxRowStride,
    const int* __restrict__ headMap, int n, int chunk, float scale,
    float* __restrict__ partO, float2* __restrict__ partML, int splits,
    float* __restrict__ logits, long long logitRowStride)
{
    extern __shared__ __align__(16) unsigned char smem[];
    float* qs = reinterpret_cast<float*>(smem);                       // [GROUP][D]
    float* ps = qs + GROUP * D;                                         // [GROUP][TILE]
    float* alphas = ps + GROUP * TILE;                                  // [GROUP] (+pad)
    unsigned char* ks = smem + (GROUP * D + GROUP * TILE + 4 * ((GROUP + 3) / 4)) * 4;
    ks = reinterpret_cast<unsigned char*>((reinterpret_cast<size_t>(ks) + 15) & ~size_t(15));
    unsigned char* vs = ks + STAGES * TILE * ROW_STRIDE;

    const int split = blockIdx.x, g = blockIdx.y, b = blockIdx.z;
    const int H = gridDim.y * GROUP;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int begin = split * chunk;
    const int end = min(n, begin + chunk);

    for (int i = tid; i < GROUP * D && !LOGITS_IN; i += THREADS) {
        int h = i / D;
        qs[i] = to_float(q[((long long)b * H + g * GROUP + h) * D + (i % D)]) * scale;
    }
    float* ls = reinterpret_cast<float*>(ks);                           // LOGITS_IN: [STAGES][TILE][GROUP]
    const float* lrow = LOGITS_IN ? logits + ((long long)b * gridDim.y + g) * logitRowStride * GROUP : nullptr;
    const kv_t* kb = k + b * kvBatchStride + g * kvHeadStride;
    const kv_t* vb = v + b * kvBatchStride + g * kvHeadStride;
    const int* irow = nullptr;
    if (INDEXED) {
        int ga = headMap ? headMap[g] : g;
        irow = idx + b * idxBatchStride + ga * idxRowStride;
    }

    // Each thread copies LOADS 16-byte pieces of a tile: rows tid / CHUNKS + i * ROWS_PER_PASS,
    // column tid % CHUNKS. Gathers read the positions of the next tile one iteration early
    // (pidx), so the index load's latency stays off the row copies.
    constexpr int LOADS = TILE * CHUNKS / THREADS;
    constexpr int ROWS_PER_PASS = THREADS / CHUNKS;
    int pidx[LOADS];
    auto fetch_idx = [&](int t0) {
        #pragma unroll
        for (int i = 0; i < LOADS; ++i) {
            int j = t0 + tid / CHUNKS + i * ROWS_PER_PASS;
            pidx[i] = (INDEXED && j < end) ? irow[j] : j;
        }
    };
    auto load_tile = [&](int t0, int stage) {
        #pragma unroll
        for (int i = 0; i < LOADS; ++i) {
            int r = tid / CHUNKS + i * ROWS_PER_PASS, col = tid % CHUNKS;
            int j = t0 + r;
            bool valid = j < end;
            long long pos = valid ? (INDEXED ? (long long)pidx[i] : (long long)j) : 0;
            size_t off = (size_t)(stage * TILE + r) * ROW_STRIDE + col * 16;
            if (LOGITS_IN) {
                if (col < GROUP / 4) cp_async16(ls + (stage * TILE + r) * GROUP + col * 4, lrow + pos * GROUP + col * 4, valid);
            } else {
                cp_async16(ks + off, kb + pos * D + col * 8, valid);
            }
            if (DO_PV) cp_async16(vs + off, vb + pos * D + col * 8, valid);
        }
    };

    float m_run[HEADS_PER_WARP], l_run[HEADS_PER_WARP];
    #pragma unroll
    for (int i = 0; i < HEADS_PER_WARP; ++i) { m_run[i] = NEG_INF; l_run[i] = 0.f; }
    float acc[QUADS_PER_THREAD][4];
    #pragma unroll
    for (int i = 0; i < QUADS_PER_THREAD; ++i) { acc[i][0] = acc[i][1] = acc[i][2] = acc[i][3] = 0.f; }

    const int ntiles = end > begin ? (end - begin + TILE - 1) / TILE : 0;
    #pragma unroll
    for (int st = 0; st < STAGES - 1; ++st) {
        if (st < ntiles) { if (INDEXED) fetch_idx(begin + st * TILE); load_tile(begin + st * TILE, st); }
        cp_async_commit();
    }
    if (INDEXED) fetch_idx(begin + (STAGES - 1) * TILE);

    for (int t = 0; t < ntiles; ++t) {
        const int t0 = begin + t * TILE, stage = t % STAGES;
        cp_async_wait<STAGES - 2>();
        __syncthreads();                      // tile t landed; every thread is done with tile t - 1
        {
            const int nt = t + STAGES - 1;
            if (nt < ntiles) {
                load_tile(begin + nt * TILE, nt % STAGES);
                if (INDEXED) fetch_idx(begin + (nt + 1) * TILE);
            }
            cp_async_commit();
        }

        // Scores: thread -> key r, heads hs, hs + HEAD_SETS, ...
        if (LOGITS_IN) {
            const int r = tid % TILE, hs = tid / TILE, j = t0 + r;
            #pragma unroll
            for (int i = 0; i < HEADS_PER_THREAD; ++i) {
                int h = hs + i * HEAD_SETS;
                if (h < GROUP) ps[h * TILE + r] = j < end ? ls[(stage * TILE + r) * GROUP + h] : NEG_INF;
            }
        } else {
            const int r = tid % TILE, hs = tid / TILE;
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
                    int h = hs + i * HEAD_SETS;
                    if (h < GROUP) {
                        const float4* qp = reinterpret_cast<const float4*>(qs + h * D + col * 8);
                        float4 a = qp[0], c = qp[1];
                        s[i][0] = fmaf(a.x, k0.x, s[i][0]); s[i][1] = fmaf(a.y, k0.y, s[i][1]);
                        s[i][0] = fmaf(a.z, k1.x, s[i][0]); s[i][1] = fmaf(a.w, k1.y, s[i][1]);
                        s[i][0] = fmaf(c.x, k2.x, s[i][0]); s[i][1] = fmaf(c.y, k2.y, s[i][1]);
                        s[i][0] = fmaf(c.z, k3.x, s[i][0]); s[i][1] = fmaf(c.w, k3.y, s[i][1]);
                    }
                }
            }
            const int j = t0 + r;
            #pragma unroll
            for (int i = 0; i < HEADS_PER_THREAD; ++i) {
                int h = hs + i * HEAD_SETS;
                if (h < GROUP) {
                    float sv = j < end ? s[i][0] + s[i][1] : NEG_INF;
                    ps[h * TILE + r] = sv;
                    if (WRITE_LOGITS && j < end)
                        logits[(((long long)b * gridDim.y + g) * logitRowStride + j) * GROUP + h] = sv;
                }
            }
        }
        __syncthreads();

        // Online softmax statistics: warp w owns heads w, w + WARPS, ...
        #pragma unroll
        for (int i = 0; i < HEADS_PER_WARP; ++i) {
            int h = warp + i * WARPS;
            if (h < GROUP) {
                float x[PER_LANE];
                float mx = NEG_INF;
                #pragma unroll
                for (int e = 0; e < PER_LANE; ++e) { x[e] = ps[h * TILE + lane + 32 * e]; mx = fmaxf(mx, x[e]); }
                #pragma unroll
                for (int o = 16; o > 0; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
                float mnew = fmaxf(m_run[i], mx);
                float alpha = __expf(m_run[i] - mnew);
                float sum = 0.f;
                #pragma unroll
                for (int e = 0; e < PER_LANE; ++e) {
                    float pe = __expf(x[e] - mnew);
                    if (DO_PV) ps[h * TILE + lane + 32 * e] = pe;
                    sum += pe;
                }
                #pragma unroll
                for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
                l_run[i] = l_run[i] * alpha + sum;
                m_run[i] = mnew;
                if (lane == 0) alphas[h] = alpha;
            }
        }

        if (DO_PV) {
            __syncthreads();
            #pragma unroll
            for (int i = 0; i < QUADS_PER_THREAD; ++i) {
                int c = tid + i * THREADS;
                if (c < QUADS) {
                    int h = c / (D / 4), d0 = (c % (D / 4)) * 4;
                    float al = alphas[h];
                    float a0 = acc[i][0] * al, a1 = acc[i][1] * al, a2 = acc[i][2] * al, a3 = acc[i][3] * al;
                    float b0 = 0.f, b1 = 0.f, b2 = 0.f, b3 = 0.f;
                    const float* ph = ps + h * TILE;
                    const unsigned char* vcol = vs + (size_t)(stage * TILE) * ROW_STRIDE + d0 * 2;
                    #pragma unroll 4
                    for (int r = 0; r < TILE; r += 2) {
                        uint2 u = *reinterpret_cast<const uint2*>(vcol + (size_t)r * ROW_STRIDE);
                        uint2 w = *reinterpret_cast<const uint2*>(vcol + (size_t)(r + 1) * ROW_STRIDE);
                        float2 pp = *reinterpret_cast<const float2*>(ph + r);
                        float2 x = unpack2(u.x), y = unpack2(u.y), z = unpack2(w.x), t = unpack2(w.y);
                        a0 = fmaf(pp.x, x.x, a0); a1 = fmaf(pp.x, x.y, a1); a2 = fmaf(pp.x, y.x, a2); a3 = fmaf(pp.x, y.y, a3);
                        b0 = fmaf(pp.y, z.x, b0); b1 = fmaf(pp.y, z.y, b1); b2 = fmaf(pp.y, t.x, b2); b3 = fmaf(pp.y, t.y, b3);
                    }
                    a0 += b0; a1 += b1; a2 += b2; a3 += b3;
                    acc[i][0] = a0; acc[i][1] = a1; acc[i][2] = a2; acc[i][3] = a3;
                }
            }
        }
    }
    cp_async_wait<0>();

    if (DO_PV) {
        #pragma unroll
        for (int i = 0; i < QUADS_PER_THREAD; ++i) {
            int c = tid + i * THREADS;
            if (c < QUADS) {
                int h = c / (D / 4), d0 = (c % (D / 4)) * 4;
                float4* dst = reinterpret_cast<float4*>(
                    partO + (((long long)b * H + g * GROUP + h) * splits + split) * D + d0);
                *dst = make_float4(acc[i][0], acc[i][1], acc[i][2], acc[i][3]);
            }
        }
    }
    #pragma unroll
    for (int i = 0; i < HEADS_PER_WARP; ++i) {
        int h = warp + i * WARPS;
        if (h < GROUP && lane == 0)
            partML[((long long)b * H + g * GROUP + h) * splits + split] = make_float2(m_run[i], l_run[i]);
    }
}
