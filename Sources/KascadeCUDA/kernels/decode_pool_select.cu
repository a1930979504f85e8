// Kascade anchor selection for decode, fused path (Deshmukh et al., arXiv 2512.16391): a row's
// GQA-pooled probabilities kept in shared memory, one block or one cluster of C blocks per row, the
// logits read once. Compiled after decode_topk.cu, whose radix helpers (hist_add, pick_counts,
// hist_range, compact_range, pool_quad) and constants it uses.

/// Key quads per thread per step of the fused pass 1: at most 8 float4 loads in flight with one
/// block per multiprocessor (64 registers), 4 with two (32 registers).
template <int RES>
__device__ constexpr int fused_quads() { return GROUP >= 8 / RES ? 1 : 8 / RES / GROUP; }

// Clusters and distributed shared memory need sm_90; older devices get the one-block kernel only.
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 900
#define HAS_CLUSTERS 1
#else
#define HAS_CLUSTERS 0
#endif

/// This block's rank in its cluster.
__device__ __forceinline__ unsigned cluster_rank() {
    unsigned r = 0;
#if HAS_CLUSTERS
    asm volatile("mov.u32 %0, %%cluster_ctarank;\n" : "=r"(r));
#endif
    return r;
}

/// Barrier over every thread of the cluster; shared-memory writes before it are visible to every
/// block of the cluster after it. Split into arrive and wait where the wait can come later.
__device__ __forceinline__ void cluster_arrive() {
#if HAS_CLUSTERS
    asm volatile("barrier.cluster.arrive.release.aligned;\n" ::: "memory");
#endif
}
__device__ __forceinline__ void cluster_wait() {
#if HAS_CLUSTERS
    asm volatile("barrier.cluster.wait.acquire.aligned;\n" ::: "memory");
#endif
}
__device__ __forceinline__ void cluster_sync() { cluster_arrive(); cluster_wait(); }

/// The ints at shared address p (8-byte aligned) and p + 1 of block `rank` of the cluster.
__device__ __forceinline__ int2 remote_int2(const int* p, unsigned rank) {
    int2 v = make_int2(0, 0);
#if HAS_CLUSTERS
    unsigned remote;
    asm volatile("mapa.shared::cluster.u32 %0, %1, %2;\n" : "=r"(remote) : "r"((unsigned)__cvta_generic_to_shared(p)), "r"(rank));
    asm volatile("ld.shared::cluster.v2.u32 {%0, %1}, [%2];\n" : "=r"(v.x), "=r"(v.y) : "r"(remote) : "memory");
#endif
    return v;
}

/// (hist[bin], hist[bin + 1]) summed over the C blocks of the cluster; bin even, (0, 0) when negative.
template <int C>
__device__ __forceinline__ int2 cluster_pair(const int* hist, int bin) {
    if (bin < 0) return make_int2(0, 0);
    if (C == 1) return make_int2(hist[bin], hist[bin + 1]);
    int2 s = make_int2(0, 0);
    #pragma unroll
    for (int r = 0; r < C; ++r) { const int2 v = remote_int2(hist + bin, r); s.x += v.x; s.y += v.y; }
    return s;
}

/// Waits for the histograms of the row: the block (C == 1) or the whole cluster.
template <int C>
__device__ __forceinline__ void row_sync() {
    if (C == 1) __syncthreads(); else cluster_sync();
}

/// Top `k` of the pooled probabilities of one row held by C blocks: block `rank` keeps keys
/// [rank * slice, rank * slice + slice) in shared memory; RES blocks per multiprocessor. See decode_pool_select.
template <int C, int RES>
__device__ __forceinline__ void pool_select(const float* __restrict__ logits, long long logitRowStride,
                                            float* __restrict__ lse, const float2* __restrict__ partML, int splits,
                                            float* __restrict__ pooled,
                                            long long pooledRowStride, int* __restrict__ idx, long long idxRowStride,
                                            int n, int k, int slice)
{
    extern __shared__ __align__(16) unsigned char smem[];
    float* sp = reinterpret_cast<float*>(smem);                        // [slice] this block's pooled probabilities
    int* hA = reinterpret_cast<int*>(smem + (size_t)slice * 4);        // [BINS] histogram (passes 1 and 3)
    int* hB = hA + BINS;                                               // [BINS] histogram of pass 2 (clusters)
    int* warpSums = hA + (C > 1 ? 2 : 1) * BINS;                       // [2][32] scan buffers, then 128 ints in all:
    int* sel = warpSums + 64;                                          // [3] bin, need left, keys in it
    int* cnt = warpSums + 68;                                          // [2] keys above / equal to the threshold here
    float* lsesS = reinterpret_cast<float*>(warpSums + 72);            // [GROUP <= 16] the group's log-sum-exp
    const int rank = C > 1 ? (int)cluster_rank() : 0;
    const int g = blockIdx.x / C, b = blockIdx.y, G = gridDim.x / C, H = G * GROUP;
    const int tid = threadIdx.x;
    const int lo = rank * slice, len = max(0, min(n, lo + slice) - lo);
    for (int i = tid; i < (C > 1 ? 2 : 1) * BINS; i += THREADS) hA[i] = 0;
    if (tid < 2) cnt[tid] = 0;
    if (partML) {
        // The group's log-sum-exp from the scores' split partials, a warp per head, bit for bit as
        // decode_combine gives it; block 0 of the row writes it to lse.
        const int warp = tid >> 5;
        if (warp < GROUP) {
            const long long hrow = (long long)b * H + g * GROUP + warp;
            const float2 m = merge_splits(partML + hrow * splits, splits);
            if ((tid & 31) == 0) {
                lsesS[warp] = m.x + logf(m.y);
                if (rank == 0) lse[hrow] = lsesS[warp];
            }
        }
    } else if (tid < GROUP) {
        lsesS[tid] = lse[(long long)b * H + g * GROUP + tid];
    }
    const float* lrow = logits + (((long long)b * G + g) * logitRowStride + lo) * GROUP;   // [keys][GROUP]
    float* prow = pooled ? pooled + ((long long)b * G + g) * pooledRowStride + lo : nullptr;
    int* irow = idx + ((long long)b * G + g) * idxRowStride;
    __syncthreads();
#if GROUP % 4 == 0
    const float* lses = lsesS;                                         // each lane keeps its 4 heads' in myL
#else
    float lses[GROUP];
    #pragma unroll
    for (int hh = 0; hh < GROUP; ++hh) lses[hh] = lsesS[hh];
#endif

    // Pass 1: the logits read once; pooled probabilities into shared memory (and to `pooled` when
    // given), the histogram of their top 11 bits.
    constexpr int FUSED_QUADS = fused_quads<RES>();
#if GROUP % 4 == 0
    // Coalesced: in step quad q, warp w covers the 128 keys from s0 + q * 4 * THREADS + 128 w, and its
    // load c reads 16-byte piece c * 32 + lane of their logits: key (c * 32 + lane) / F, heads 4 sub
    // to 4 sub + 3, so a warp's load is 512 contiguous bytes. The F lanes of a key chain their sums.
    constexpr int F = GROUP / 4;
    const int lane = tid & 31, sub = lane % F, wbase = (tid >> 5) * 128;
    const int len4 = (len + 3) & ~3;                                   // sp and pooled are zero-padded to a quad
    float myL[4];
    #pragma unroll
    for (int s = 0; s < F; ++s) {
        if (s == sub) {
            #pragma unroll
            for (int j = 0; j < 4; ++j) myL[j] = lses[4 * s + j];
        }
    }
    constexpr int LOADS = FUSED_QUADS * GROUP;                         // 16-byte loads per lane per step
    constexpr int BATCH = LOADS < 8 / RES ? LOADS : 8 / RES;           // in flight at once (registers)
    for (int s0 = 0; s0 < len; s0 += THREADS * 4 * FUSED_QUADS) {
        #pragma unroll
        for (int e0 = 0; e0 < LOADS; e0 += BATCH) {
            float4 raw[BATCH];
            #pragma unroll
            for (int e = 0; e < BATCH; ++e) {                           // every load of the batch issued before any use
                const int q = (e0 + e) / GROUP, c = (e0 + e) % GROUP;
                const int key = s0 + q * THREADS * 4 + wbase + (c * 32 + lane) / F;
                raw[e] = key < len ? reinterpret_cast<const float4*>(lrow + (long long)key * GROUP)[sub]
                                   : make_float4(0.f, 0.f, 0.f, 0.f);
            }
            #pragma unroll
            for (int e = 0; e < BATCH; ++e) {
                const int q = (e0 + e) / GROUP, c = (e0 + e) % GROUP;
                const int key = s0 + q * THREADS * 4 + wbase + (c * 32 + lane) / F;
                // Heads added in order, as pool_quad does, so every path gives bit-identical sums:
                // lane sub continues the sum of lane sub - 1.
                const float x0 = exp_ftz(raw[e].x - myL[0]), x1 = exp_ftz(raw[e].y - myL[1]);
                const float x2 = exp_ftz(raw[e].z - myL[2]), x3 = exp_ftz(raw[e].w - myL[3]);
                float pv = 0.f;
                #pragma unroll
                for (int t = 0; t < F; ++t) {
                    const float before = t == 0 ? 0.f : __shfl_up_sync(0xffffffffu, pv, 1);
                    if (sub == t) { pv = before; pv += x0; pv += x1; pv += x2; pv += x3; }
                }
                if (key >= len) pv = 0.f;                              // past the row's end
                if (sub == F - 1 && key < len4) {
                    sp[key] = pv;
                    if (prow) prow[key] = pv;
                }
                hist_add(hA, __float_as_uint(pv) >> 21, sub == F - 1 && key < len);
            }
        }
    }
#else
    for (int s0 = 0; s0 < len; s0 += THREADS * 4 * FUSED_QUADS) {
        float4 pq[FUSED_QUADS];
        #pragma unroll
        for (int q = 0; q < FUSED_QUADS; ++q) {                        // every load issued before any use
            const int i = s0 + (q * THREADS + tid) * 4;
            pq[q] = i < len ? pool_quad(lrow + (long long)i * GROUP, lses) : make_float4(0.f, 0.f, 0.f, 0.f);
        }
        #pragma unroll
        for (int q = 0; q < FUSED_QUADS; ++q) {
            const int i = s0 + (q * THREADS + tid) * 4;
            float v[4] = {pq[q].x, pq[q].y, pq[q].z, pq[q].w};
            #pragma unroll
            for (int e = 0; e < 4; ++e) if (i + e >= len) v[e] = 0.f;  // past the row's end
            if (i < len) {
                const float4 p = make_float4(v[0], v[1], v[2], v[3]);
                *reinterpret_cast<float4*>(sp + i) = p;
                if (prow) *reinterpret_cast<float4*>(prow + i) = p;
            }
            #pragma unroll
            for (int e = 0; e < 4; ++e) hist_add(hA, __float_as_uint(v[e]) >> 21, i + e < len);
        }
    }
#endif
    if (k >= n) {                                                      // every key (no block reads another)
        for (int i = tid; i < len; i += THREADS) irow[lo + i] = lo + i;
        return;
    }
    const int hi1 = BINS - 1 - 2 * tid;                                // this thread's bin pair in passes 1 and 2
    int gt = 0, eq = 0;                                                // this block's keys above / equal to the threshold in its bins
    row_sync<C>();
    int lh = hA[hi1], ll = hA[hi1 - 1];
    int2 tot = cluster_pair<C>(hA, hi1 - 1);
    pick_counts(tot.y, tot.x, hi1, k, sel, warpSums);
    const int s1 = sel[0];
    unsigned prefix = (unsigned)s1 << 21;
    int need = sel[1];
    unsigned thr;
    int takeEq;                                                        // keys equal to the threshold to keep, lowest first
    bool whole = whole_bin(prefix, sel, thr, takeEq);
    gt += (hi1 > s1 || (whole && hi1 == s1) ? lh : 0) + (hi1 - 1 > s1 || (whole && hi1 - 1 == s1) ? ll : 0);

    if (!whole) {
        // Pass 2: bits 20..10 among keys with the chosen top bits. A cluster uses hB: the other blocks
        // may still be reading hA.
        int* h2 = C > 1 ? hB : hA;
        if (C == 1) {
            for (int i = tid; i < BINS; i += THREADS) hA[i] = 0;
            __syncthreads();
        }
        hist_range(sp, 0, len, h2, prefix, 21, 10, 2047u);
        row_sync<C>();
        lh = h2[hi1]; ll = h2[hi1 - 1];
        tot = cluster_pair<C>(h2, hi1 - 1);
        pick_counts(tot.y, tot.x, hi1, need, sel, warpSums);
        const int s2 = sel[0];
        prefix |= (unsigned)s2 << 10;
        need = sel[1];
        whole = whole_bin(prefix, sel, thr, takeEq);
        gt += (hi1 > s2 || (whole && hi1 == s2) ? lh : 0) + (hi1 - 1 > s2 || (whole && hi1 - 1 == s2) ? ll : 0);
    }

    if (!whole) {
        // Pass 3: bits 9..0, into hA again (every block of the cluster has read it: they are past pass 2's barrier).
        for (int i = tid; i < 1024; i += THREADS) hA[i] = 0;
        __syncthreads();
        hist_range(sp, 0, len, hA, prefix, 10, 0, 1023u);
        row_sync<C>();
        const int hi3 = 1023 - 2 * tid;
        lh = hi3 >= 0 ? hA[hi3] : 0; ll = hi3 >= 1 ? hA[hi3 - 1] : 0;    // hi3 is odd: both or neither
        tot = cluster_pair<C>(hA, hi3 - 1);
        pick_counts(tot.y, tot.x, hi3, need, sel, warpSums);
        const int s3 = sel[0];
        thr = prefix | (unsigned)s3;
        takeEq = sel[1];
        gt += (hi3 > s3 ? lh : 0) + (hi3 - 1 > s3 ? ll : 0);
        eq = (hi3 == s3 ? lh : 0) + (hi3 - 1 == s3 ? ll : 0);
    }
    int gtBase = 0, eqBase = 0;
    if (C > 1) {
        // Keys above / equal to the threshold in the blocks before this one (none equal is taken
        // when the last bin picked is kept whole).
        #pragma unroll
        for (int o = 16; o > 0; o >>= 1) {
            gt += __shfl_xor_sync(0xffffffffu, gt, o);
            eq += __shfl_xor_sync(0xffffffffu, eq, o);
        }
        if ((tid & 31) == 0 && (gt | eq)) { atomicAdd(&cnt[0], gt); atomicAdd(&cnt[1], eq); }
        cluster_sync();
        for (int r = 0; r < rank; ++r) { const int2 c = remote_int2(cnt, r); gtBase += c.x; eqBase += c.y; }
        cluster_arrive();                                              // done reading the other blocks
    }
    compact_range<8>(sp, 0, len, thr, takeEq, gtBase, eqBase, irow, lo, warpSums);
    if (C > 1) cluster_wait();                                         // no block leaves while another may read it
}

/// Top `k` of the pooled probabilities per (KV head, sequence) in one pass over the logits:
/// grid (G * C, B), 1024 threads, clusters of C blocks along x, one cluster per row; block r of a
/// row holds keys [r * slice, (r + 1) * slice) (slice % 4 == 0, C * slice >= n). Dynamic shared
/// memory: slice * 4 + (C > 1 ? 2 : 1) * 2048 * 4 + 128 * 4 bytes. logits [B, G, logitRowStride, GROUP];
/// lse [B, H] read, or, with partML [B, H, splits] (the scores kernel's (max, sum of exp) per split),
/// computed from it and written; pooled [B, G, pooledRowStride] written when not null; idx [B, G, idxRowStride]
/// ascending. Row strides are multiples of 4. decode_pool_select[_xC] is built for one block per
/// multiprocessor, decode_pool_select_r2[_xC] for two (32 registers; slices of up to 26752 keys on the H100).
#define DECODE_POOL_SELECT_ARGS \
    const float* __restrict__ logits, long long logitRowStride, float* __restrict__ lse, \
    const float2* __restrict__ partML, int splits, \
    float* __restrict__ pooled, long long pooledRowStride, int* __restrict__ idx, long long idxRowStride, \
    int n, int k, int slice
#define DECODE_POOL_SELECT_CALL logits, logitRowStride, lse, partML, splits, pooled, pooledRowStride, idx, idxRowStride, n, k, slice
#define DECODE_POOL_SELECT(NAME, C, RES) \
    extern "C" __global__ void __launch_bounds__(THREADS, RES) NAME(DECODE_POOL_SELECT_ARGS) { \
        grid_dependency_sync(); \
        pool_select<C, RES>(DECODE_POOL_SELECT_CALL); \
    }
#define DECODE_POOL_SELECT_CLUSTER(NAME, C, RES) \
    extern "C" __global__ void __cluster_dims__(C, 1, 1) __launch_bounds__(THREADS, RES) NAME(DECODE_POOL_SELECT_ARGS) { \
        grid_dependency_sync(); \
        pool_select<C, RES>(DECODE_POOL_SELECT_CALL); \
    }
DECODE_POOL_SELECT(decode_pool_select, 1, 1)
DECODE_POOL_SELECT(decode_pool_select_r2, 1, 2)
#if HAS_CLUSTERS
DECODE_POOL_SELECT_CLUSTER(decode_pool_select_x2, 2, 1)
DECODE_POOL_SELECT_CLUSTER(decode_pool_select_x4, 4, 1)
DECODE_POOL_SELECT_CLUSTER(decode_pool_select_x8, 8, 1)
DECODE_POOL_SELECT_CLUSTER(decode_pool_select_r2_x2, 2, 2)
DECODE_POOL_SELECT_CLUSTER(decode_pool_select_r2_x4, 4, 2)
DECODE_POOL_SELECT_CLUSTER(decode_pool_select_r2_x8, 8, 2)
#endif
