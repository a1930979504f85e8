// Kascade prefill anchor scores on Hopper (Deshmukh, Goyal, Kwatra, Ramjee, arXiv 2512.16391;
// SPEC 2.2): the tile-pooled full-softmax probabilities of anchor_scores (prefill_anchor.cu) with
// warpgroup matrix products (wgmma) on TMA-loaded, 128-byte swizzled tiles, after FlashAttention-3
// (Shah et al., arXiv 2407.08608).
//
// Compiled after prefill_wgmma.cu (same translation unit), whose helpers, tensor-map struct and
// constants (D, BN = TILE_N, HALVES, KV_SLAB, KV_BYTES, STAGES) it uses. Definitions: GROUP (2 or
// 4: the block's 32 * GROUP rows are one or two 64-row halves; other groups compile nothing here).
//
// One block owns one 32-position tile starting at t0 and one KV head g: its rows are the
// (query head g * GROUP + w, position t0 + i) pairs, row 32 w + i. Per 128-key tile below t0 (one
// TMA stage), consumer warpgroup c takes keys 64 c ... 64 c + 63 against all the block's rows, so
// that its column sums are complete inside it and the two warpgroups run unsynchronised (one's
// products overlap the other's exponentials): S = Q K^T (wgmma, Q and K from shared memory),
// p = exp2(S * scale * log2e - lse2_row), the sums over each thread's rows, a reduce-scatter over
// the 8 lanes that share columns (14 shuffles), the 4 warps' partial sums through shared memory.
// Each warpgroup also issues the next tile's product before summing this one.
// maps.q: q as (d, T, B*H), box (64, 32, 1) (rows outside the last T positions read as zeros; their
// lse is taken as +inf, so they add nothing); maps.k: k as (d, N, B*G), box (64, TILE_N, 1); maps.v
// unused. scores and the skipped dense tiles as in anchor_scores.
#if GROUP == 2 || GROUP == 4

constexpr int A_ROWS = 32 * GROUP;             // rows of a block
constexpr int A_RH = A_ROWS / 64;              // 64-row halves
constexpr int A_THREADS = 384;                 // producer + two consumer warpgroups
constexpr int A_KEYS = BN / 2;                 // keys of a stage per consumer warpgroup
constexpr int A_QSLAB = A_ROWS * 128;          // bytes of one 64-column slab of the query rows
constexpr int A_QBYTES = HALVES * A_QSLAB;
constexpr int A_OFF_K = A_QBYTES;
constexpr int A_OFF_RED = A_OFF_K + STAGES * KV_BYTES;
constexpr int A_OFF_BAR = A_OFF_RED + 2 * 2 * 4 * A_KEYS * 4;    // [warpgroup][buffer][warp][key]
static_assert(BN == 128, "TILE_N must be 128");

/// Keys a tile starting at t0 keeps: min(max(kMin, ceil(fraction * t0)), t0) (as in prefill_anchor.cu).
__device__ __forceinline__ int anchor_tile_budget(int t0, double fraction, int kMin) {
    if (t0 <= 0) return 0;
    long long want = (long long)ceil(fraction * (double)t0);
    long long k = want > kMin ? want : kMin;
    return (int)(k < t0 ? k : t0);
}

// Grid (chunkTiles, G, B), 384 threads (warpgroup 0 loads), dynamic shared memory
// A_OFF_BAR + 8 * (1 + 2 * STAGES) + 1024 bytes. Longest tiles first.
extern "C" __global__ void __launch_bounds__(A_THREADS, 1)
anchor_scores_wgmma(const __grid_constant__ TensorMaps maps, int T, int N, float scale, const float* __restrict__ lse,
                    int tileLo, int chunkTiles, float* __restrict__ scores, long long stride, long long fractionBits, int kMin)
{
    extern __shared__ unsigned char smem_raw[];
    const unsigned raw = static_cast<unsigned>(__cvta_generic_to_shared(smem_raw));
    const unsigned base = (raw + 1023u) & ~1023u;
    const unsigned sQ = base, sK = base + A_OFF_K;
    float* red = reinterpret_cast<float*>(smem_raw + (base - raw) + A_OFF_RED);
    const unsigned barQ = base + A_OFF_BAR;
    auto fullK = [&](int s) { return barQ + 8u * (1 + s); };
    auto emptyK = [&](int s) { return barQ + 8u * (1 + STAGES + s); };

    const int g = blockIdx.y, b = blockIdx.z;
    const int G = gridDim.y, H = G * GROUP;
    const int shift = N - T;
    const int r = tileLo + (chunkTiles - 1 - (int)blockIdx.x);
    const int t0 = (shift / 32 + r) * 32;
    if (anchor_tile_budget(t0, __longlong_as_double(fractionBits), kMin) >= t0) return;   // dense tile: nothing to rank
    const int ntiles = (t0 + BN - 1) / BN;
    const int tid = threadIdx.x;
    const int wg = tid >> 7;

    if (tid == 0) {
        mbar_init(barQ, 1);
        for (int s = 0; s < STAGES; ++s) { mbar_init(fullK(s), 1); mbar_init(emptyK(s), 256); }
        asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
        asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
    }
    __syncthreads();

    if (wg == 0) {
        asm volatile("setmaxnreg.dec.sync.aligned.u32 24;\n" ::: "memory");
        if (tid == 0) {
            const void* mq = maps.q;
            const void* mk = maps.k;
            mbar_expect_tx(barQ, A_QBYTES);
            #pragma unroll
            for (int w = 0; w < GROUP; ++w) {
                #pragma unroll
                for (int x = 0; x < HALVES; ++x)
                    tma_load(sQ + x * A_QSLAB + w * 32 * 128, mq, barQ, x * 64, t0 - shift, b * H + g * GROUP + w);
            }
            for (int j = 0; j < ntiles; ++j) {
                const int s = j % STAGES;
                const unsigned ph = (j / STAGES) & 1;
                mbar_wait(emptyK(s), ph ^ 1);
                mbar_expect_tx(fullK(s), KV_BYTES);
                #pragma unroll
                for (int x = 0; x < HALVES; ++x) tma_load(sK + s * KV_BYTES + x * KV_SLAB, mk, fullK(s), x * 64, j * BN, b * G + g);
            }
        }
        return;
    }

    asm volatile("setmaxnreg.inc.sync.aligned.u32 240;\n" ::: "memory");
    const int c = wg - 1;
    const int t128 = tid & 127, warp = t128 >> 5, lane = t128 & 31;
    // log2-domain log-sum-exp of block row `row`; +inf hides rows outside the last T positions.
    auto lse2 = [&](int row) -> float {
        const int p = t0 + (row & 31);
        const long long h = (long long)b * H + g * GROUP + (row >> 5);
        return (p >= shift && p < N) ? lse[h * T + (p - shift)] * LOG2E : __int_as_float(0x7f800000);
    };
    float l2[A_RH][2];
    #pragma unroll
    for (int h = 0; h < A_RH; ++h) {
        const int row = 64 * h + 16 * warp + (lane >> 2);
        l2[h][0] = lse2(row);
        l2[h][1] = lse2(row + 8);
    }
    const float sl2 = scale * LOG2E;
    float* out = scores + (((long long)b * G + g) * chunkTiles + (r - tileLo)) * stride;
    const bool h4 = (lane & 16) != 0, h3 = (lane & 8) != 0, h2 = (lane & 4) != 0;
    const int colBase = ((lane >> 2) & 7) * 2;           // 8 h4 + 4 h3 + 2 h2
    float* myRed = red + c * 2 * 4 * A_KEYS;             // this warpgroup's two buffers

    // S of row half h against this warpgroup's 64 keys of stage st, into acc[32 h ...].
    auto issue = [&](float* acc, int st) {
        const unsigned kb = sK + st * KV_BYTES + c * A_KEYS * 128;
        #pragma unroll
        for (int h = 0; h < A_RH; ++h) {
            #pragma unroll
            for (int kk = 0; kk < D / 16; ++kk) {
                unsigned long long da = smem_desc(sQ + h * 64 * 128 + (kk >> 2) * A_QSLAB + (kk & 3) * 32, 16, 1024);
                unsigned long long db = smem_desc(kb + (kk >> 2) * KV_SLAB + (kk & 3) * 32, 16, 1024);
                wgmma_ss_n64(acc + 32 * h, da, db, kk > 0);
            }
        }
    };
    // Column sums of tile j from its scores `acc` (m64n64 accumulator layout per row half).
    auto process = [&](const float* acc, int j) {
        float v[16];
        #pragma unroll
        for (int i = 0; i < 8; ++i) {
            #pragma unroll
            for (int e = 0; e < 2; ++e) {
                float a = 0.f;
                #pragma unroll
                for (int h = 0; h < A_RH; ++h)
                    a += fast_exp2(fmaf(acc[32 * h + 4 * i + e], sl2, -l2[h][0])) + fast_exp2(fmaf(acc[32 * h + 4 * i + 2 + e], sl2, -l2[h][1]));
                v[2 * i + e] = a;
            }
        }
        #pragma unroll
        for (int m = 0; m < 8; ++m) {
            const float send = h4 ? v[m] : v[8 + m], keep = h4 ? v[8 + m] : v[m];
            v[m] = keep + __shfl_xor_sync(0xffffffffu, send, 16);
        }
        #pragma unroll
        for (int m = 0; m < 4; ++m) {
            const float send = h3 ? v[m] : v[4 + m], keep = h3 ? v[4 + m] : v[m];
            v[m] = keep + __shfl_xor_sync(0xffffffffu, send, 8);
        }
        #pragma unroll
        for (int m = 0; m < 2; ++m) {
            const float send = h2 ? v[m] : v[2 + m], keep = h2 ? v[2 + m] : v[m];
            v[m] = keep + __shfl_xor_sync(0xffffffffu, send, 4);
        }
        float* rb = myRed + ((j & 1) * 4 + warp) * A_KEYS;
        #pragma unroll
        for (int m = 0; m < 2; ++m) {
            const int idx = colBase + m;
            rb[8 * (idx >> 1) + 2 * (lane & 3) + (idx & 1)] = v[m];
        }
        named_sync(1 + c, 128);          // buffer j & 1 complete; buffer (j + 1) & 1 was read before it
        if (t128 < A_KEYS) {
            const float* rr = myRed + (j & 1) * 4 * A_KEYS + t128;
            const float a = rr[0] + rr[A_KEYS] + rr[2 * A_KEYS] + rr[3 * A_KEYS];
            const int n = j * BN + c * A_KEYS + t128;
            if (n < t0) out[n] = a;
        }
    };
    // Issues tile j + 1 into `nxt` (when there is one), then sums tile j from `cur`.
    auto step = [&](float* cur, float* nxt, int j) {
        if (j + 1 < ntiles) {
            const int st1 = (j + 1) % STAGES;
            mbar_wait(fullK(st1), ((j + 1) / STAGES) & 1);
            wg_fence();
            issue(nxt, st1);
            wg_commit();
            wg_wait<1>();
        } else {
            wg_wait<0>();
        }
        reg_fence<32 * A_RH>(cur);
        mbar_arrive(emptyK(j % STAGES));
        process(cur, j);
    };

    float sa[32 * A_RH], sb[32 * A_RH];
    mbar_wait(barQ, 0);
    mbar_wait(fullK(0), 0);
    wg_fence();
    issue(sa, 0);
    wg_commit();
    for (int j = 0; j < ntiles; j += 2) {
        step(sa, sb, j);
        if (j + 1 < ntiles) step(sb, sa, j + 1);
    }
}
// The same scores from the transposed product S^T = K Q^T: consumer warpgroup c takes keys
// 64 c ... 64 c + 63 of each 128-key tile as the A operand (M = 64 keys, K-major, as loaded) and
// the block's A_ROWS query rows as the B operand (N = A_ROWS, K-major), so that each accumulator
// row is one key and its pooled score is a row sum: in-thread adds over the thread's query columns,
// two quad shuffles, no shared memory. Each thread keeps the log-sum-exp of its own columns in
// registers. POLY (0, 2, 3): that many eighths of the exponentials are computed by a degree-5
// polynomial on the FMA units (relative error 2.5e-7) instead of the MUFU unit.
// Kernels anchor_scores_wgmma_t (POLY 0), anchor_scores_wgmma_tp2, anchor_scores_wgmma_tp3: grid,
// arguments and shared memory as anchor_scores_wgmma (its column-sum buffers unused).

/// 2^x for x <= 0 on the FMA units: round-to-nearest split x = j + f (|f| <= 1/2), 2^f by a
/// minimax polynomial, j added to the exponent; x below -126 gives about 2^-126 (negligible here).
__device__ __forceinline__ float poly_exp2(float x) {
    x = fmaxf(x, -126.f);
    const float t = __fadd_rn(x, 12582912.f);          // 1.5 * 2^23: round(x) in the low bits
    const float f = __fsub_rn(x, __fsub_rn(t, 12582912.f));
    float p = 1.35009588e-3f;
    p = fmaf(p, f, 9.67675745e-3f);
    p = fmaf(p, f, 5.55007347e-2f);
    p = fmaf(p, f, 2.40220893e-1f);
    p = fmaf(p, f, 6.93147314e-1f);
    p = fmaf(p, f, 1.00000008f);
    return __int_as_float(__float_as_int(p) + (int)((unsigned)__float_as_int(t) << 23));
}

template <int POLY>
__device__ __forceinline__ void anchor_scores_t_body(const TensorMaps& maps, int T, int N, float scale, const float* __restrict__ lse,
                                                     int tileLo, int chunkTiles, float* __restrict__ scores, long long stride,
                                                     long long fractionBits, int kMin)
{
    extern __shared__ unsigned char smem_raw[];
    const unsigned raw = static_cast<unsigned>(__cvta_generic_to_shared(smem_raw));
    const unsigned base = (raw + 1023u) & ~1023u;
    const unsigned sQ = base, sK = base + A_OFF_K;
    const unsigned barQ = base + A_OFF_BAR;
    auto fullK = [&](int s) { return barQ + 8u * (1 + s); };
    auto emptyK = [&](int s) { return barQ + 8u * (1 + STAGES + s); };

    const int g = blockIdx.y, b = blockIdx.z;
    const int G = gridDim.y, H = G * GROUP;
    const int shift = N - T;
    const int r = tileLo + (chunkTiles - 1 - (int)blockIdx.x);
    const int t0 = (shift / 32 + r) * 32;
    if (anchor_tile_budget(t0, __longlong_as_double(fractionBits), kMin) >= t0) return;   // dense tile: nothing to rank
    const int ntiles = (t0 + BN - 1) / BN;
    const int tid = threadIdx.x;
    const int wg = tid >> 7;

    if (tid == 0) {
        mbar_init(barQ, 1);
        for (int s = 0; s < STAGES; ++s) { mbar_init(fullK(s), 1); mbar_init(emptyK(s), 256); }
        asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
        asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
    }
    __syncthreads();

    if (wg == 0) {
        asm volatile("setmaxnreg.dec.sync.aligned.u32 24;\n" ::: "memory");
        if (tid == 0) {
            const void* mq = maps.q;
            const void* mk = maps.k;
            mbar_expect_tx(barQ, A_QBYTES);
            #pragma unroll
            for (int w = 0; w < GROUP; ++w) {
                #pragma unroll
                for (int x = 0; x < HALVES; ++x)
                    tma_load(sQ + x * A_QSLAB + w * 32 * 128, mq, barQ, x * 64, t0 - shift, b * H + g * GROUP + w);
            }
            for (int j = 0; j < ntiles; ++j) {
                const int s = j % STAGES;
                const unsigned ph = (j / STAGES) & 1;
                mbar_wait(emptyK(s), ph ^ 1);
                mbar_expect_tx(fullK(s), KV_BYTES);
                #pragma unroll
                for (int x = 0; x < HALVES; ++x) tma_load(sK + s * KV_BYTES + x * KV_SLAB, mk, fullK(s), x * 64, j * BN, b * G + g);
            }
        }
        return;
    }

    asm volatile("setmaxnreg.inc.sync.aligned.u32 240;\n" ::: "memory");
    constexpr int NA = A_ROWS / 2;                       // accumulator registers per thread
    const int c = wg - 1;
    const int t128 = tid & 127, warp = t128 >> 5, lane = t128 & 31;
    // log2-domain log-sum-exp of this thread's query columns 8 i + 2 (lane & 3) + e, at [2 i + e];
    // +inf hides rows outside the last T positions.
    float l2[NA / 2];
    #pragma unroll
    for (int i = 0; i < NA / 4; ++i) {
        #pragma unroll
        for (int e = 0; e < 2; ++e) {
            const int row = 8 * i + 2 * (lane & 3) + e;
            const int p = t0 + (row & 31);
            const long long h = (long long)b * H + g * GROUP + (row >> 5);
            l2[2 * i + e] = (p >= shift && p < N) ? lse[h * T + (p - shift)] * LOG2E : __int_as_float(0x7f800000);
        }
    }
    const float sl2 = scale * LOG2E;
    float* out = scores + (((long long)b * G + g) * chunkTiles + (r - tileLo)) * stride;
    const int keyRow = c * A_KEYS + 16 * warp + (lane >> 2);  // this thread's keys in a tile: keyRow, keyRow + 8

    // S^T of this warpgroup's 64 keys of stage st against all the block's rows, into acc.
    auto issue = [&](float* acc, int st) {
        const unsigned kb = sK + st * KV_BYTES + c * A_KEYS * 128;
        #pragma unroll
        for (int kk = 0; kk < D / 16; ++kk) {
            unsigned long long da = smem_desc(kb + (kk >> 2) * KV_SLAB + (kk & 3) * 32, 16, 1024);
            unsigned long long db = smem_desc(sQ + (kk >> 2) * A_QSLAB + (kk & 3) * 32, 16, 1024);
            wgmma_ss<A_ROWS>(acc, da, db, kk > 0);
        }
    };
    // Row sums of tile j from its scores `acc` (m64nA_ROWS accumulator layout).
    auto process = [&](const float* acc, int j) {
        float a0[2] = {0.f, 0.f}, a1[2] = {0.f, 0.f};
        #pragma unroll
        for (int i = 0; i < NA / 4; ++i) {
            #pragma unroll
            for (int e = 0; e < 2; ++e) {
                const float x0 = fmaf(acc[4 * i + e], sl2, -l2[2 * i + e]), x1 = fmaf(acc[4 * i + 2 + e], sl2, -l2[2 * i + e]);
                const bool poly = POLY == 2 ? (i & 3) == 3 : POLY == 3 ? ((i & 7) == 2 || (i & 7) == 5 || (i & 7) == 7) : false;
                a0[e] += poly ? poly_exp2(x0) : fast_exp2(x0);
                a1[e] += poly ? poly_exp2(x1) : fast_exp2(x1);
            }
        }
        float s0 = a0[0] + a0[1], s1 = a1[0] + a1[1];
        // Quad sums: after the exchange lanes 0, 1 of a quad hold key keyRow, lanes 2, 3 key keyRow + 8.
        const bool hi = (lane & 2) != 0;
        float keep = hi ? s1 : s0, send = hi ? s0 : s1;
        keep += __shfl_xor_sync(0xffffffffu, send, 2);
        keep += __shfl_xor_sync(0xffffffffu, keep, 1);
        const int n = j * BN + keyRow + (hi ? 8 : 0);
        if ((lane & 1) == 0 && n < t0) out[n] = keep;
    };
    // Issues tile j + 1 (which exists) into `nxt`, then sums tile j from `cur`: every product is
    // waited for in the step after the one that issued it, and no branch holds an issue.
    auto step = [&](float* cur, float* nxt, int j) {
        const int st1 = (j + 1) % STAGES;
        mbar_wait(fullK(st1), ((j + 1) / STAGES) & 1);
        wg_fence();
        issue(nxt, st1);
        wg_commit();
        wg_wait<1>();
        reg_fence<NA>(cur);
        mbar_arrive(emptyK(j % STAGES));
        process(cur, j);
    };
    // Sums the last tile j from `cur`.
    auto last = [&](float* cur, int j) {
        wg_wait<0>();
        reg_fence<NA>(cur);
        mbar_arrive(emptyK(j % STAGES));
        process(cur, j);
    };

    float sa[NA], sb[NA];
    #pragma unroll
    for (int i = 0; i < NA; ++i) { sa[i] = 0.f; sb[i] = 0.f; }
    mbar_wait(barQ, 0);
    mbar_wait(fullK(0), 0);
    wg_fence();
    issue(sa, 0);
    wg_commit();
    int j = 0;
    for (; j + 2 < ntiles; j += 2) {
        step(sa, sb, j);
        step(sb, sa, j + 1);
    }
    if (j + 1 < ntiles) {
        step(sa, sb, j);
        last(sb, j + 1);
    } else {
        last(sa, j);
    }
}

#define ANCHOR_SCORES_T(NAME, POLY)                                                                                     \
extern "C" __global__ void __launch_bounds__(A_THREADS, 1)                                                              \
NAME(const __grid_constant__ TensorMaps maps, int T, int N, float scale, const float* __restrict__ lse, int tileLo,     \
     int chunkTiles, float* __restrict__ scores, long long stride, long long fractionBits, int kMin)                    \
{ anchor_scores_t_body<POLY>(maps, T, N, scale, lse, tileLo, chunkTiles, scores, stride, fractionBits, kMin); }
ANCHOR_SCORES_T(anchor_scores_wgmma_t, 0)
ANCHOR_SCORES_T(anchor_scores_wgmma_tp2, 2)
ANCHOR_SCORES_T(anchor_scores_wgmma_tp3, 3)
#endif
