// Dense causal prefill attention on tensor cores (mma.sync m16n8k16, fp32 accumulation), after
// FlashAttention-2 (Dao, arXiv 2307.08691): online softmax over key tiles, the query tile held in
// registers, key and value tiles streamed through shared memory with cp.async (two stages).
// It also writes the per-row log-sum-exp, which Kascade's anchor layers need (Deshmukh et al.,
// arXiv 2512.16391).
//
// q [B, H, T, d]; k, v [B, G, capacity, d] with the first N positions valid; out [B, H, T, d] in
// the input type; lse [B, H, T] fp32 (natural log of the sum of exp of the scaled scores).
// Causal, bottom-right aligned: query t sees keys 0 ... N - T + t (T <= N).
// A block of WARPS warps owns 16 * MTILES * WARPS consecutive query rows of one query head; each
// warp owns 16 * MTILES rows (with MTILES = 2 every key and value fragment read from shared memory
// feeds two m-tiles, and the query fragments are re-read from shared memory instead of held).
// P is rounded to the input type before the value product, as in FlashAttention.
//
// Definitions: KV_BF16, HEAD_DIM (64, 128), WARPS (4, 8), MTILES (1, 2), TILE_KEYS (32, 64).

#ifndef WARPS
#define WARPS 4
#endif
#ifndef MTILES
#define MTILES 1
#endif
#ifndef TILE_KEYS
#define TILE_KEYS 64
#endif

constexpr int D = HEAD_DIM;
constexpr int THREADS = WARPS * 32;
constexpr int MT = MTILES;                    // m-tiles of 16 rows per warp
constexpr int WR = 16 * MT;                   // query rows per warp
constexpr int BM = WR * WARPS;                // query rows per block
constexpr int BN = TILE_KEYS;                 // keys per tile
constexpr int ROW_BYTES = D * 2;
constexpr int ROW_STRIDE = ROW_BYTES + 16;    // padded rows: conflict-free ldmatrix
constexpr int CHUNKS = ROW_BYTES / 16;
constexpr int KSTEPS = D / 16;                // k-steps of the score product
constexpr int NT = D / 8;                     // n-tiles of the output
constexpr int ST = BN / 8;                    // n-tiles of the scores
constexpr float LOG2E = 1.4426950408889634f;

// Grid: (ceil(T / BM), H, B), block THREADS, dynamic shared memory (BM + 4 BN) * ROW_STRIDE bytes:
// the query tile and two stages of key and value tiles.
extern "C" __global__ void __launch_bounds__(THREADS)
prefill_causal(const kv_t* __restrict__ q, const kv_t* __restrict__ k, const kv_t* __restrict__ v,
               long long kvBatchStride, long long kvHeadStride, int T, int N, int group, float scale,
               kv_t* __restrict__ out, float* __restrict__ lse)
{
    extern __shared__ __align__(128) unsigned char smem[];
    unsigned char* qs = smem;                          // [BM][ROW_STRIDE]
    unsigned char* ks = smem + BM * ROW_STRIDE;        // [2][BN][ROW_STRIDE]
    unsigned char* vs = ks + 2 * BN * ROW_STRIDE;      // [2][BN][ROW_STRIDE]

    // Longest blocks (most keys) first.
    const int mb = gridDim.x - 1 - blockIdx.x;
    const int h = blockIdx.y, b = blockIdx.z;
    const int H = gridDim.y;
    const int g = h / group;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int m0 = mb * BM;
    const int shift = N - T;                           // query t sees keys <= shift + t
    const int nEnd = min(N, shift + min(m0 + BM, T));  // keys any row of the block sees
    const int ntiles = (nEnd + BN - 1) / BN;
    const int firstMasked = (shift + m0 + 1) / BN;     // tiles from here may hide keys from some row

    const kv_t* qb = q + ((long long)b * H + h) * (long long)T * D;
    const kv_t* kb = k + b * kvBatchStride + g * kvHeadStride;
    const kv_t* vb = v + b * kvBatchStride + g * kvHeadStride;

    for (int c = tid; c < BM * CHUNKS; c += THREADS) {
        int r = c / CHUNKS, col = c % CHUNKS;
        int t = m0 + r;
        cp_async16(qs + r * ROW_STRIDE + col * 16, qb + (long long)min(t, T - 1) * D + col * 8, t < T);
    }
    auto load_tile = [&](int tile, int stage) {
        const int n0 = tile * BN;
        #pragma unroll
        for (int c = tid; c < BN * CHUNKS; c += THREADS) {
            int r = c / CHUNKS, col = c % CHUNKS;
            int n = n0 + r;
            bool valid = n < N;
            long long pos = valid ? n : 0;
            size_t off = (size_t)(stage * BN + r) * ROW_STRIDE + col * 16;
            cp_async16(ks + off, kb + pos * D + col * 8, valid);
            cp_async16(vs + off, vb + pos * D + col * 8, valid);
        }
    };
    load_tile(0, 0);
    cp_async_commit();

    // Query fragment of m-tile mt, k-step kk (ldmatrix from the query tile).
    auto load_q = [&](unsigned* r, int mt, int kk) {
        int mi = lane >> 3;
        ldmatrix_x4(r, qs + (warp * WR + mt * 16 + (mi & 1) * 8 + (lane & 7)) * ROW_STRIDE + (kk * 16 + (mi >> 1) * 8) * 2);
    };
    unsigned qf[MT == 1 ? KSTEPS : 1][4];
    float o[MT][NT][4];
    float mrow[MT][2], lrow[MT][2];
    int lim[MT][2];
    const float sl2 = scale * LOG2E;
    #pragma unroll
    for (int mt = 0; mt < MT; ++mt) {
        #pragma unroll
        for (int i = 0; i < NT; ++i) { o[mt][i][0] = o[mt][i][1] = o[mt][i][2] = o[mt][i][3] = 0.f; }
        mrow[mt][0] = mrow[mt][1] = NEG_INF;
        lrow[mt][0] = lrow[mt][1] = 0.f;
        const int row = m0 + warp * WR + mt * 16 + (lane >> 2);   // this thread's rows: row, row + 8
        lim[mt][0] = min(N - 1, shift + row);
        lim[mt][1] = min(N - 1, shift + row + 8);
    }

    for (int j = 0; j < ntiles; ++j) {
        if (j + 1 < ntiles) load_tile(j + 1, (j + 1) & 1);
        cp_async_commit();
        cp_async_wait<1>();
        __syncthreads();
        if (MT == 1 && j == 0) {
            #pragma unroll
            for (int kk = 0; kk < KSTEPS; ++kk) load_q(qf[MT == 1 ? kk : 0], 0, kk);
        }
        const unsigned char* kt = ks + (j & 1) * BN * ROW_STRIDE;
        const unsigned char* vt = vs + (j & 1) * BN * ROW_STRIDE;

        // S = Q K^T for this warp's rows and the tile's keys.
        float s[MT][ST][4];
        #pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
            #pragma unroll
            for (int nt = 0; nt < ST; ++nt) s[mt][nt][0] = s[mt][nt][1] = s[mt][nt][2] = s[mt][nt][3] = 0.f;
        }
        #pragma unroll
        for (int kk = 0; kk < KSTEPS; kk += 2) {
            unsigned qa[MT][2][4];
            if (MT > 1) {
                #pragma unroll
                for (int mt = 0; mt < MT; ++mt) { load_q(qa[mt][0], mt, kk); load_q(qa[mt][1], mt, kk + 1); }
            }
            #pragma unroll
            for (int nt = 0; nt < ST; ++nt) {
                unsigned bf[4];
                ldmatrix_x4(bf, kt + (nt * 8 + (lane & 7)) * ROW_STRIDE + (kk * 16 + (lane >> 3) * 8) * 2);
                #pragma unroll
                for (int mt = 0; mt < MT; ++mt) {
                    mma16816(s[mt][nt], MT == 1 ? qf[MT == 1 ? kk : 0] : qa[mt][0], bf[0], bf[1]);
                    mma16816(s[mt][nt], MT == 1 ? qf[MT == 1 ? kk + 1 : 0] : qa[mt][1], bf[2], bf[3]);
                }
            }
        }

        // Scale to log2 units, hide future keys, online softmax.
        const int n0 = j * BN;
        const bool masked = j >= firstMasked;
        #pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
            float mx[2] = {mrow[mt][0], mrow[mt][1]};
            #pragma unroll
            for (int nt = 0; nt < ST; ++nt) {
                #pragma unroll
                for (int e = 0; e < 4; ++e) {
                    float x = s[mt][nt][e] * sl2;
                    if (masked) {
                        int n = n0 + nt * 8 + (lane & 3) * 2 + (e & 1);
                        if (n > lim[mt][e >> 1]) x = NEG_INF;
                    }
                    s[mt][nt][e] = x;
                    mx[e >> 1] = fmaxf(mx[e >> 1], x);
                }
            }
            float corr[2], rs[2] = {0.f, 0.f};
            #pragma unroll
            for (int r = 0; r < 2; ++r) {
                mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
                mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
                corr[r] = fast_exp2(mrow[mt][r] - mx[r]);      // exp2(-inf) = 0 on the first tile
                mrow[mt][r] = mx[r];
            }
            #pragma unroll
            for (int nt = 0; nt < ST; ++nt) {
                #pragma unroll
                for (int e = 0; e < 4; ++e) {
                    float p = fast_exp2(s[mt][nt][e] - mx[e >> 1]);
                    s[mt][nt][e] = p;
                    rs[e >> 1] += p;
                }
            }
            #pragma unroll
            for (int r = 0; r < 2; ++r) lrow[mt][r] = lrow[mt][r] * corr[r] + rs[r];
            #pragma unroll
            for (int dt = 0; dt < NT; ++dt) {
                o[mt][dt][0] *= corr[0]; o[mt][dt][1] *= corr[0];
                o[mt][dt][2] *= corr[1]; o[mt][dt][3] *= corr[1];
            }
        }

        // O += P V; P's accumulator layout is the A-operand layout of the next product.
        #pragma unroll
        for (int kk = 0; kk < BN / 16; ++kk) {
            unsigned a[MT][4];
            #pragma unroll
            for (int mt = 0; mt < MT; ++mt) {
                a[mt][0] = pack2(s[mt][2 * kk][0], s[mt][2 * kk][1]);
                a[mt][1] = pack2(s[mt][2 * kk][2], s[mt][2 * kk][3]);
                a[mt][2] = pack2(s[mt][2 * kk + 1][0], s[mt][2 * kk + 1][1]);
                a[mt][3] = pack2(s[mt][2 * kk + 1][2], s[mt][2 * kk + 1][3]);
            }
            #pragma unroll
            for (int dt = 0; dt < NT; dt += 2) {
                unsigned bf[4];
                int mi = lane >> 3;
                ldmatrix_x4_trans(bf, vt + (kk * 16 + (mi & 1) * 8 + (lane & 7)) * ROW_STRIDE + (dt * 8 + (mi >> 1) * 8) * 2);
                #pragma unroll
                for (int mt = 0; mt < MT; ++mt) {
                    mma16816(o[mt][dt], a[mt], bf[0], bf[1]);
                    mma16816(o[mt][dt + 1], a[mt], bf[2], bf[3]);
                }
            }
        }
        __syncthreads();
    }
    cp_async_wait<0>();

    // Row sums over the quad, normalise, write.
    kv_t* ob = out + ((long long)b * H + h) * (long long)T * D;
    float* lb = lse ? lse + ((long long)b * H + h) * (long long)T : nullptr;
    const float LN2 = 0.6931471805599453f;
    #pragma unroll
    for (int mt = 0; mt < MT; ++mt) {
        #pragma unroll
        for (int r = 0; r < 2; ++r) {
            lrow[mt][r] += __shfl_xor_sync(0xffffffffu, lrow[mt][r], 1);
            lrow[mt][r] += __shfl_xor_sync(0xffffffffu, lrow[mt][r], 2);
        }
        const float inv0 = 1.f / lrow[mt][0], inv1 = 1.f / lrow[mt][1];
        const int rowA = m0 + warp * WR + mt * 16 + (lane >> 2);
        #pragma unroll
        for (int dt = 0; dt < NT; ++dt) {
            int col = dt * 8 + (lane & 3) * 2;
            if (rowA < T) *reinterpret_cast<unsigned*>(ob + (long long)rowA * D + col) = pack2(o[mt][dt][0] * inv0, o[mt][dt][1] * inv0);
            if (rowA + 8 < T) *reinterpret_cast<unsigned*>(ob + (long long)(rowA + 8) * D + col) = pack2(o[mt][dt][2] * inv1, o[mt][dt][3] * inv1);
        }
        if (lb && (lane & 3) == 0) {
            if (rowA < T) lb[rowA] = (mrow[mt][0] + __log2f(lrow[mt][0])) * LN2;
            if (rowA + 8 < T) lb[rowA + 8] = (mrow[mt][1] + __log2f(lrow[mt][1])) * LN2;
        }
    }
}

// Kascade prefill reuse (Deshmukh et al., arXiv 2512.16391): per 32-query tile and KV head, the
// tile's queries of the group's heads (warp w: query head g * WARPS + w, 16 * MTILES = 32 rows)
// attend to the tile's selected keys (row tr of the selection, all before the tile, read through
// the head map) and to the tile's own diagonal block, causally. Build with WARPS = group, MTILES = 2.
// idx [B, Ga, rows, cap] int32 (idxHeadStride = 0 when one selection head is shared), counts
// [B, Ga, rows] int32; q, out [B, H, T, d]; k, v [B, G, capacity, d]. Grid (rows, G, B).
#if MTILES == 2
extern "C" __global__ void __launch_bounds__(THREADS)
prefill_reuse(const kv_t* __restrict__ q, const kv_t* __restrict__ k, const kv_t* __restrict__ v,
              long long kvBatchStride, long long kvHeadStride, int T, int N, float scale,
              const int* __restrict__ idx, const int* __restrict__ counts, long long idxBatchStride,
              long long idxHeadStride, int idxRows, int cap, int idxHeads, const int* __restrict__ headMap,
              kv_t* __restrict__ out)
{
    extern __shared__ __align__(128) unsigned char smem[];
    unsigned char* qs = smem;
    unsigned char* ks = smem + BM * ROW_STRIDE;
    unsigned char* vs = ks + 2 * BN * ROW_STRIDE;

    const int tr = blockIdx.x, g = blockIdx.y, b = blockIdx.z;
    const int G = gridDim.y, H = G * WARPS;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int shift = N - T;
    const int t0 = (shift / 32 + tr) * 32;             // first absolute position of the tile
    const int ga = idxHeads == 1 ? 0 : (headMap ? headMap[g] : g);
    const int cnt = counts[((long long)b * idxHeads + ga) * idxRows + tr];
    const int* irow = idx + b * idxBatchStride + ga * idxHeadStride + (long long)tr * cap;
    const int diag = min(32, N - t0);
    const int total = cnt + diag;
    const int ntiles = (total + BN - 1) / BN;

    const kv_t* kb = k + b * kvBatchStride + g * kvHeadStride;
    const kv_t* vb = v + b * kvBatchStride + g * kvHeadStride;
    for (int c = tid; c < BM * CHUNKS; c += THREADS) {
        int r = c / CHUNKS, col = c % CHUNKS;
        int w = r / 32, p = t0 + (r & 31);
        bool valid = p >= shift && p < N;
        const kv_t* src = q + (((long long)b * H + g * WARPS + w) * T + (valid ? p - shift : 0)) * D + col * 8;
        cp_async16(qs + r * ROW_STRIDE + col * 16, src, valid);
    }
    auto load_tile = [&](int tile, int stage) {
        const int n0 = tile * BN;
        #pragma unroll
        for (int c = tid; c < BN * CHUNKS; c += THREADS) {
            int r = c / CHUNKS, col = c % CHUNKS;
            int j = n0 + r;
            bool valid = j < total;
            long long pos = !valid ? 0 : (j < cnt ? (long long)irow[j] : (long long)(t0 + j - cnt));
            size_t off = (size_t)(stage * BN + r) * ROW_STRIDE + col * 16;
            cp_async16(ks + off, kb + pos * D + col * 8, valid);
            cp_async16(vs + off, vb + pos * D + col * 8, valid);
        }
    };
    load_tile(0, 0);
    cp_async_commit();

    auto load_q = [&](unsigned* r, int mt, int kk) {
        int mi = lane >> 3;
        ldmatrix_x4(r, qs + (warp * WR + mt * 16 + (mi & 1) * 8 + (lane & 7)) * ROW_STRIDE + (kk * 16 + (mi >> 1) * 8) * 2);
    };
    float o[MT][NT][4];
    float mrow[MT][2], lrow[MT][2];
    int lim[MT][2];                                    // last visible diagonal key (virtual index)
    const float sl2 = scale * LOG2E;
    #pragma unroll
    for (int mt = 0; mt < MT; ++mt) {
        #pragma unroll
        for (int i = 0; i < NT; ++i) { o[mt][i][0] = o[mt][i][1] = o[mt][i][2] = o[mt][i][3] = 0.f; }
        mrow[mt][0] = mrow[mt][1] = NEG_INF;
        lrow[mt][0] = lrow[mt][1] = 0.f;
        const int r = mt * 16 + (lane >> 2);
        lim[mt][0] = min(total - 1, cnt + r);
        lim[mt][1] = min(total - 1, cnt + r + 8);
    }

    for (int j = 0; j < ntiles; ++j) {
        if (j + 1 < ntiles) load_tile(j + 1, (j + 1) & 1);
        cp_async_commit();
        cp_async_wait<1>();
        __syncthreads();
        const unsigned char* kt = ks + (j & 1) * BN * ROW_STRIDE;
        const unsigned char* vt = vs + (j & 1) * BN * ROW_STRIDE;
        float s[MT][ST][4];
        #pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
            #pragma unroll
            for (int nt = 0; nt < ST; ++nt) s[mt][nt][0] = s[mt][nt][1] = s[mt][nt][2] = s[mt][nt][3] = 0.f;
        }
        #pragma unroll
        for (int kk = 0; kk < KSTEPS; kk += 2) {
            unsigned qa[MT][2][4];
            #pragma unroll
            for (int mt = 0; mt < MT; ++mt) { load_q(qa[mt][0], mt, kk); load_q(qa[mt][1], mt, kk + 1); }
            #pragma unroll
            for (int nt = 0; nt < ST; ++nt) {
                unsigned bf[4];
                ldmatrix_x4(bf, kt + (nt * 8 + (lane & 7)) * ROW_STRIDE + (kk * 16 + (lane >> 3) * 8) * 2);
                #pragma unroll
                for (int mt = 0; mt < MT; ++mt) {
                    mma16816(s[mt][nt], qa[mt][0], bf[0], bf[1]);
                    mma16816(s[mt][nt], qa[mt][1], bf[2], bf[3]);
                }
            }
        }
        const int n0 = j * BN;
        const bool masked = n0 + BN > cnt;
        #pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
            float mx[2] = {mrow[mt][0], mrow[mt][1]};
            #pragma unroll
            for (int nt = 0; nt < ST; ++nt) {
                #pragma unroll
                for (int e = 0; e < 4; ++e) {
                    float x = s[mt][nt][e] * sl2;
                    if (masked) {
                        int n = n0 + nt * 8 + (lane & 3) * 2 + (e & 1);
                        if (n > lim[mt][e >> 1]) x = NEG_INF;
                    }
                    s[mt][nt][e] = x;
                    mx[e >> 1] = fmaxf(mx[e >> 1], x);
                }
            }
            float corr[2], rs[2] = {0.f, 0.f};
            #pragma unroll
            for (int r = 0; r < 2; ++r) {
                mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
                mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
                corr[r] = fast_exp2(mrow[mt][r] - mx[r]);
                mrow[mt][r] = mx[r];
            }
            #pragma unroll
            for (int nt = 0; nt < ST; ++nt) {
                #pragma unroll
                for (int e = 0; e < 4; ++e) {
                    float p = fast_exp2(s[mt][nt][e] - mx[e >> 1]);
                    s[mt][nt][e] = p;
                    rs[e >> 1] += p;
                }
            }
            #pragma unroll
            for (int r = 0; r < 2; ++r) lrow[mt][r] = lrow[mt][r] * corr[r] + rs[r];
            #pragma unroll
            for (int dt = 0; dt < NT; ++dt) {
                o[mt][dt][0] *= corr[0]; o[mt][dt][1] *= corr[0];
                o[mt][dt][2] *= corr[1]; o[mt][dt][3] *= corr[1];
            }
        }
        #pragma unroll
        for (int kk = 0; kk < BN / 16; ++kk) {
            unsigned a[MT][4];
            #pragma unroll
            for (int mt = 0; mt < MT; ++mt) {
                a[mt][0] = pack2(s[mt][2 * kk][0], s[mt][2 * kk][1]);
                a[mt][1] = pack2(s[mt][2 * kk][2], s[mt][2 * kk][3]);
                a[mt][2] = pack2(s[mt][2 * kk + 1][0], s[mt][2 * kk + 1][1]);
                a[mt][3] = pack2(s[mt][2 * kk + 1][2], s[mt][2 * kk + 1][3]);
            }
            #pragma unroll
            for (int dt = 0; dt < NT; dt += 2) {
                unsigned bf[4];
                int mi = lane >> 3;
                ldmatrix_x4_trans(bf, vt + (kk * 16 + (mi & 1) * 8 + (lane & 7)) * ROW_STRIDE + (dt * 8 + (mi >> 1) * 8) * 2);
                #pragma unroll
                for (int mt = 0; mt < MT; ++mt) {
                    mma16816(o[mt][dt], a[mt], bf[0], bf[1]);
                    mma16816(o[mt][dt + 1], a[mt], bf[2], bf[3]);
                }
            }
        }
        __syncthreads();
    }
    cp_async_wait<0>();

    kv_t* ob = out + ((long long)b * H + g * WARPS + warp) * (long long)T * D;
    #pragma unroll
    for (int mt = 0; mt < MT; ++mt) {
        #pragma unroll
        for (int r = 0; r < 2; ++r) {
            lrow[mt][r] += __shfl_xor_sync(0xffffffffu, lrow[mt][r], 1);
            lrow[mt][r] += __shfl_xor_sync(0xffffffffu, lrow[mt][r], 2);
        }
        const float inv0 = 1.f / lrow[mt][0], inv1 = 1.f / lrow[mt][1];
        const int pA = t0 + mt * 16 + (lane >> 2), pB = pA + 8;
        #pragma unroll
        for (int dt = 0; dt < NT; ++dt) {
            int col = dt * 8 + (lane & 3) * 2;
            if (pA >= shift && pA < N) *reinterpret_cast<unsigned*>(ob + (long long)(pA - shift) * D + col) = pack2(o[mt][dt][0] * inv0, o[mt][dt][1] * inv0);
            if (pB >= shift && pB < N) *reinterpret_cast<unsigned*>(ob + (long long)(pB - shift) * D + col) = pack2(o[mt][dt][2] * inv1, o[mt][dt][3] * inv1);
        }
    }
}
#endif
