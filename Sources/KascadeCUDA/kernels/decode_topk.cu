// Kascade anchor selection for decode (Deshmukh et al., arXiv 2512.16391): GQA-pooled post-softmax
// probabilities and their exact top-k, on the GPU; and the combine step of the split-KV (flash-
// decoding) attention kernels, shared by every build of them.
//
// Compile-time definitions: GROUP (query heads per KV head).
//   pooled[b, g, n] = sum over the group's heads h of exp(logits[b, h, n] - lse[b, h])
// Two paths give the same indices. Split: decode_pool computes it over the whole grid with the
// histogram of its top 11 bits; decode_select (one block of 1024 threads per (KV head, sequence))
// finishes a radix select on the float bits (pooled >= 0, so the bits order like the values):
// digits of 11, 11 and 10 bits (the later digits skipped once the bin picked is kept whole), then
// one compaction pass. The exponentials flush results below 2^-126 to zero (exp_ftz). Fused
// (decode_pool_select.cu, compiled after this file): decode_pool_select[_xC] keeps a row's pooled
// probabilities in the shared memory of one block (or of a cluster of C blocks, each holding one
// slice, their histograms summed through distributed shared memory) and runs the same passes there,
// reading the logits once. Every key above the threshold is kept, and of the keys equal to it the
// lowest positions first. Indices are written in ascending position order:
// idx [B, G, idxRowStride].

#include <cuda_fp16.h>

constexpr int THREADS = 1024;
constexpr int BINS = 2048;

/// Exclusive prefix sum over the block with one barrier; the block total through `total`. Each warp
/// leaves its sum in warpSums[warp] (32 ints) and then scans all 32 sums itself. A later call may
/// reuse warpSums only past a barrier that follows this one (or with the other of two buffers).
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
    const int w = lane < THREADS / 32 ? warpSums[lane] : 0;
    int wi = w;
    #pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
        int y = __shfl_up_sync(0xffffffffu, wi, o);
        if (lane >= o) wi += y;
    }
    total = __shfl_sync(0xffffffffu, wi, 31);
    return __shfl_sync(0xffffffffu, wi - w, warp) + inc - x;
}

/// Finds the bin holding the `need`-th largest (1-based) key, scanning bins from the top, with the
/// whole block: thread t holds the counts of bins hiBin = bins - 1 - 2t (ch) and hiBin - 1 (cl),
/// zero where negative (bins <= 2 * THREADS). Writes (bin, need remaining inside it, keys in it) to
/// sel[0 ..< 3]. Two barriers; sel is read after it, and written again only past the next call's first.
__device__ __forceinline__ void pick_counts(int ch, int cl, int hiBin, int need, int* sel, int* warpSums) {
    const int loBin = hiBin - 1;
    int total;
    const int above = block_exclusive_scan(ch + cl, warpSums, total);
    if (hiBin >= 0 && above < need && need <= above + ch) { sel[0] = hiBin; sel[1] = need - above; sel[2] = ch; }
    else if (loBin >= 0 && above + ch < need && need <= above + ch + cl) { sel[0] = loBin; sel[1] = need - above - ch; sel[2] = cl; }
    __syncthreads();
}

/// pick_counts over hist[0 ..< bins] in shared memory.
__device__ __forceinline__ void pick_bin(const int* hist, int bins, int need, int* sel, int* warpSums) {
    const int hiBin = bins - 1 - 2 * (int)threadIdx.x;            // descending pairs
    pick_counts(hiBin >= 0 ? hist[hiBin] : 0, hiBin >= 1 ? hist[hiBin - 1] : 0, hiBin, need, sel, warpSums);
}

/// Pooled probabilities of 4 consecutive keys from their 4 x GROUP logits at src ([key][GROUP],
/// 16-byte aligned): for each key the sum, over its heads in order, of exp(logit - lse[head]).
__device__ __forceinline__ float4 pool_quad(const float* __restrict__ src, const float* lses) {
    const float4* s4 = reinterpret_cast<const float4*>(src);
    float pv[4] = {0.f, 0.f, 0.f, 0.f};
    #pragma unroll
    for (int c = 0; c < GROUP; ++c) {
        const float4 f = s4[c];
        const float v[4] = {f.x, f.y, f.z, f.w};
        #pragma unroll
        for (int j = 0; j < 4; ++j) pv[(4 * c + j) / GROUP] += exp_ftz(v[j] - lses[(4 * c + j) % GROUP]);
    }
    return make_float4(pv[0], pv[1], pv[2], pv[3]);
}

constexpr int POOL_THREADS = 256;

/// Pooled probabilities of one span of `iters * 1024` positions and the histogram of their top 11
/// bits: grid (ceil(n / span), G, B), 256 threads. logits [B, G, logitRowStride, GROUP];
/// hist [B, G, 2048] must start zeroed (decode_select zeroes it again after reading it).
/// Row strides are multiples of 4 (16-byte aligned rows).
extern "C" __global__ void __launch_bounds__(POOL_THREADS) decode_pool(
    const float* __restrict__ logits, long long logitRowStride, const float* __restrict__ lse,
    float* __restrict__ pooled, long long pooledRowStride, int* __restrict__ hist, int n, int iters)
{
    grid_dependency_sync();
    __shared__ int h[BINS];
    const int g = blockIdx.y, b = blockIdx.z, G = gridDim.y, H = G * GROUP;
    const int tid = threadIdx.x;
    for (int i = tid; i < BINS; i += POOL_THREADS) h[i] = 0;
    float lses[GROUP];
    #pragma unroll
    for (int hh = 0; hh < GROUP; ++hh) lses[hh] = lse[(long long)b * H + g * GROUP + hh];
    const float* lrow = logits + ((long long)b * G + g) * logitRowStride * GROUP;   // [keys][GROUP]
    float* prow = pooled + ((long long)b * G + g) * pooledRowStride;
    __syncthreads();
    const int base = blockIdx.x * POOL_THREADS * 4 * iters;
    #pragma unroll 2
    for (int it = 0; it < iters; ++it) {
        const int i = base + (it * POOL_THREADS + tid) * 4;
        float pv[4] = {0.f, 0.f, 0.f, 0.f};
        if (i < n) {
            const float4 p = pool_quad(lrow + (long long)i * GROUP, lses);
            *reinterpret_cast<float4*>(prow + i) = p;
            pv[0] = p.x; pv[1] = p.y; pv[2] = p.z; pv[3] = p.w;
        }
        #pragma unroll
        for (int e = 0; e < 4; ++e) hist_add(h, __float_as_uint(pv[e]) >> 21, i + e < n);
    }
    __syncthreads();
    int* grow = hist + ((long long)b * G + g) * BINS;
    for (int i = tid; i < BINS; i += POOL_THREADS) if (h[i]) atomicAdd(&grow[i], h[i]);
}

constexpr int PER = 2;                        // float4 loads in flight per thread per chunk
constexpr int CHUNK = THREADS * PER * 4;      // keys per block-wide chunk (8192)

__device__ __forceinline__ float4 load4(const float* p, int i, int hi) {
    return i < hi ? *reinterpret_cast<const float4*>(p + i) : make_float4(0.f, 0.f, 0.f, 0.f);
}

/// Histogram of `(u >> shift) & mask` over the keys in [lo, hi) whose bits above `matchShift`
/// equal `prefix >> matchShift`; PER coalesced float4 loads in flight per thread. lo % 4 == 0.
__device__ __forceinline__ void hist_range(const float* prow, int lo, int hi, int* h, unsigned prefix, int matchShift,
                                           int shift, unsigned mask) {
    const int tid = threadIdx.x;
    for (int c0 = lo; c0 < hi; c0 += CHUNK) {
        float4 p[PER];
        #pragma unroll
        for (int e = 0; e < PER; ++e) p[e] = load4(prow, c0 + (e * THREADS + tid) * 4, hi);
        #pragma unroll
        for (int e = 0; e < PER; ++e) {
            const int i = c0 + (e * THREADS + tid) * 4;
            unsigned u[4] = {__float_as_uint(p[e].x), __float_as_uint(p[e].y), __float_as_uint(p[e].z), __float_as_uint(p[e].w)};
            #pragma unroll
            for (int j = 0; j < 4; ++j)
                hist_add(h, (u[j] >> shift) & mask, i + j < hi && (u[j] >> matchShift) == (prefix >> matchShift));
        }
    }
}

/// Whether the bin just picked (sel: bin, need left, keys in it) is kept whole; then the threshold
/// that keeps every key at or above `prefix` (the digits so far, the picked bin's included, lower
/// bits zero), thr = prefix - 1 with no equal keys taken, and the remaining digits need no pass.
/// Uniform over the block (and over a cluster, whose counts are summed).
__device__ __forceinline__ bool whole_bin(unsigned prefix, const int* sel, unsigned& thr, int& takeEq) {
    if (sel[1] != sel[2] || prefix == 0u) return false;
    thr = prefix - 1u;
    takeEq = 0;
    return true;
}

/// Writes the positions (pos0 + i) of the keys i in [lo, hi) above `thr`, and of those equal to it
/// the ones whose rank among the row's equal keys is below `takeEq`, in ascending order: a key's
/// slot is (greater keys before it) + min(equal keys before it, takeEq), counting from gtBase /
/// eqBase at lo. One scan per chunk of KPT consecutive keys per thread orders the output; the scans
/// alternate between the two 32-int buffers at warpSums. lo % 4 == 0.
template <int KPT>
__device__ __forceinline__ void compact_range(const float* prow, int lo, int hi, unsigned thr, int takeEq,
                                              int gtBase, int eqBase, int* irow, int pos0, int* warpSums) {
    const int tid = threadIdx.x;
    for (int c0 = lo; c0 < hi; c0 += THREADS * KPT) {
        const int i0 = c0 + tid * KPT;
        unsigned u[KPT];
        #pragma unroll
        for (int e = 0; e < KPT / 4; ++e) {
            float4 p = load4(prow, i0 + 4 * e, hi);
            u[4 * e] = __float_as_uint(p.x); u[4 * e + 1] = __float_as_uint(p.y);
            u[4 * e + 2] = __float_as_uint(p.z); u[4 * e + 3] = __float_as_uint(p.w);
        }
        int gt = 0, eq = 0;
        #pragma unroll
        for (int e = 0; e < KPT; ++e) if (i0 + e < hi) { gt += u[e] > thr; eq += u[e] == thr; }
        int tot;
        int* sums = warpSums + (((c0 - lo) / (THREADS * KPT)) & 1) * 32;
        const int before = block_exclusive_scan((eq << 16) | gt, sums, tot);   // counts < 2^16 per chunk
        int gtB = gtBase + (before & 0xffff), eqB = eqBase + (before >> 16);
        #pragma unroll
        for (int e = 0; e < KPT; ++e) {
            // One slot formula for both kinds (an equal key is taken only while eqB < takeEq); a
            // predicated store instead of a branch per key.
            const bool above = i0 + e < hi && u[e] > thr, equal = i0 + e < hi && u[e] == thr;
            if (above || (equal && eqB < takeEq)) irow[gtB + min(eqB, takeEq)] = pos0 + i0 + e;
            gtB += above;
            eqB += equal;
        }
        gtBase += tot & 0xffff;
        eqBase += tot >> 16;
    }
}

/// Top `k` of the pooled probabilities per (KV head, sequence), ascending positions, into
/// idx [B, G, idxRowStride]: grid (G, B), 1024 threads; hist from decode_pool, zeroed here for the
/// next call.
extern "C" __global__ void __launch_bounds__(THREADS, 2) decode_select(
    const float* __restrict__ pooled, long long pooledRowStride, int* __restrict__ hist,
    int* __restrict__ idx, long long idxRowStride, int n, int k)
{
    grid_dependency_sync();
    __shared__ int h[BINS];
    __shared__ int warpSums[64];
    __shared__ int sel[3];
    const int g = blockIdx.x, b = blockIdx.y, G = gridDim.x;
    const int tid = threadIdx.x;
    const float* prow = pooled + ((long long)b * G + g) * pooledRowStride;
    int* irow = idx + ((long long)b * G + g) * idxRowStride;
    int* grow = hist + ((long long)b * G + g) * BINS;
    for (int i = tid; i < BINS; i += THREADS) { h[i] = grow[i]; grow[i] = 0; }
    if (k >= n) {
        for (int i = tid; i < n; i += THREADS) irow[i] = i;
        return;
    }
    __syncthreads();
    pick_bin(h, BINS, k, sel, warpSums);
    unsigned prefix = (unsigned)sel[0] << 21;
    int need = sel[1];
    unsigned thr;
    int takeEq;                              // keys equal to the threshold to keep, lowest first
    bool whole = whole_bin(prefix, sel, thr, takeEq);
    if (!whole) {
        // Pass 2: bits 20..10 among keys with the chosen top bits.
        for (int i = tid; i < BINS; i += THREADS) h[i] = 0;
        __syncthreads();
        hist_range(prow, 0, n, h, prefix, 21, 10, 2047u);
        __syncthreads();
        pick_bin(h, BINS, need, sel, warpSums);
        prefix |= (unsigned)sel[0] << 10;
        need = sel[1];
        whole = whole_bin(prefix, sel, thr, takeEq);
    }
    if (!whole) {
        // Pass 3: bits 9..0.
        for (int i = tid; i < 1024; i += THREADS) h[i] = 0;
        __syncthreads();
        hist_range(prow, 0, n, h, prefix, 10, 0, 1023u);
        __syncthreads();
        pick_bin(h, 1024, need, sel, warpSums);
        thr = prefix | (unsigned)sel[0];
        takeEq = sel[1];
    }
    compact_range<8>(prow, 0, n, thr, takeEq, 0, 0, irow, 0, warpSums);   // few registers: 2 blocks per SM
}

constexpr int MAX_SPLITS = 1024;              // splits the combine step accepts

/// The (max, sum of exp) of one row's `splits` partial (max, sum of exp) pairs, merged by one warp
/// (every lane gets it; the same bits wherever it is called): log-sum-exp = max + log(sum). With
/// `wts`, each split's weight exp(max_s - max) is stored there too.
__device__ __forceinline__ float2 merge_splits(const float2* __restrict__ ml, int splits, float* wts = nullptr) {
    const int lane = threadIdx.x & 31;
    float mx = NEG_INF;
    for (int s = lane; s < splits; s += 32) mx = fmaxf(mx, ml[s].x);
    #pragma unroll
    for (int o = 16; o > 0; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
    float l = 0.f;
    for (int s = lane; s < splits; s += 32) {
        const float2 p = ml[s];
        const float w = p.x == NEG_INF ? 0.f : __expf(p.x - mx);
        if (wts) wts[s] = w;
        l += w * p.y;
    }
    #pragma unroll
    for (int o = 16; o > 0; o >>= 1) l += __shfl_xor_sync(0xffffffffu, l, o);
    return make_float2(mx, l);
}

constexpr int COMBINE_THREADS = 128;

/// Merges the splits of each (sequence, query head) of a split-KV attention kernel: grid (H, B),
/// 128 threads. partO [B, H, S, headDim] fp32 (unnormalised), partML [B, H, S] (max, sum of exp).
/// Writes out [B, H, headDim] (if partO and out are given) and lse [B, H] = log sum exp of the
/// scaled scores (if given). headDim is a multiple of 4, at most 512.
extern "C" __global__ void __launch_bounds__(COMBINE_THREADS) decode_combine(
    const float* __restrict__ partO, const float2* __restrict__ partML, int splits,
    float* __restrict__ out, float* __restrict__ lse, int headDim)
{
    grid_dependency_sync();
    __shared__ float wts[MAX_SPLITS];
    __shared__ float2 merged;
    __shared__ float4 part[COMBINE_THREADS];
    const int h = blockIdx.x, b = blockIdx.y, H = gridDim.x;
    const int tid = threadIdx.x;
    const long long row = (long long)b * H + h;
    if (tid < 32) {                           // the first warp merges the splits and stores their weights
        const float2 m = merge_splits(partML + row * splits, splits, wts);
        if (tid == 0) merged = m;
    }
    __syncthreads();                          // wts and merged visible
    const float mx = merged.x, total = merged.y;
    if (tid == 0 && lse) lse[row] = mx + logf(total);
    if (partO && out) {
        const int quads = headDim / 4;
        const float inv = 1.f / total;
        for (int q0 = 0; q0 < quads; q0 += COMBINE_THREADS) {
            const int span = min(COMBINE_THREADS, quads - q0);       // quads in this round
            const int groups = COMBINE_THREADS / span;               // split groups
            const int q = q0 + tid % span, grp = tid / span;
            float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
            if (grp < groups) {
                const float4* src = reinterpret_cast<const float4*>(partO + row * splits * headDim) + q;
                #pragma unroll 4
                for (int s = grp; s < splits; s += groups) {
                    const float w = wts[s];
                    const float4 v = src[(long long)s * quads];
                    acc.x = fmaf(w, v.x, acc.x); acc.y = fmaf(w, v.y, acc.y);
                    acc.z = fmaf(w, v.z, acc.z); acc.w = fmaf(w, v.w, acc.w);
                }
            }
            part[tid] = acc;
            __syncthreads();
            if (tid < span) {
                float4 r = part[tid];
                for (int gI = 1; gI < groups; ++gI) {
                    float4 x = part[gI * span + tid];
                    r.x += x.x; r.y += x.y; r.z += x.z; r.w += x.w;
                }
                reinterpret_cast<float4*>(out + row * headDim)[q0 + tid] = make_float4(r.x * inv, r.y * inv, r.z * inv, r.w * inv);
            }
            __syncthreads();
        }
    }
}

/// Fills `count` elements with deterministic pseudo-random values in [-amp, amp): element i from
/// a hash of (i, seed). 16-bit elements (bf16 if isBF16, else fp16).
extern "C" __global__ void fill_random16(unsigned short* dst, long long count, unsigned long long seed,
                                         float amp, int isBF16)
{
    grid_dependency_sync();
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count;
         i += (long long)gridDim.x * blockDim.x) {
        unsigned long long x = (unsigned long long)i * 0x9E3779B97F4A7C15ull ^ seed;
        x ^= x >> 33; x *= 0xff51afd7ed558ccdull; x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ull; x ^= x >> 33;
        float f = ((float)(x >> 40) * (1.0f / 16777216.0f) * 2.f - 1.f) * amp;
        unsigned short bits;
        if (isBF16) {
            unsigned u = __float_as_uint(f);
            u += 0x7fffu + ((u >> 16) & 1u);
            bits = (unsigned short)(u >> 16);
        } else {
            bits = __half_as_ushort(__float2half_rn(f));
        }
        dst[i] = bits;
    }
}

/// Kascade's pooled variant: probabilities pooled over all `G * GROUP` query heads of the layer, one
/// row per sequence, and the histogram of their top 11 bits, for decode_select launched on grid
/// (1, B): grid (ceil(n / span), 1, B), 256 threads. logits [B, G, logitRowStride, GROUP]; lse [B, H];
/// pooled [B, pooledRowStride]; hist [B, 2048] must start zeroed. Row strides are multiples of 4.
extern "C" __global__ void __launch_bounds__(POOL_THREADS) decode_pool_all(
    const float* __restrict__ logits, long long logitRowStride, const float* __restrict__ lse, int G,
    float* __restrict__ pooled, long long pooledRowStride, int* __restrict__ hist, int n, int iters)
{
    grid_dependency_sync();
    __shared__ int h[BINS];
    const int b = blockIdx.z, H = G * GROUP, tid = threadIdx.x;
    for (int i = tid; i < BINS; i += POOL_THREADS) h[i] = 0;
    float* prow = pooled + (long long)b * pooledRowStride;
    __syncthreads();
    const int base = blockIdx.x * POOL_THREADS * 4 * iters;
    for (int it = 0; it < iters; ++it) {
        const int i = base + (it * POOL_THREADS + tid) * 4;
        float pv[4] = {0.f, 0.f, 0.f, 0.f};
        if (i < n) {
            for (int g = 0; g < G; ++g) {
                const float4* src = reinterpret_cast<const float4*>(logits + (((long long)b * G + g) * logitRowStride + i) * GROUP);
                float x[4 * GROUP];
                #pragma unroll
                for (int c = 0; c < GROUP; ++c) {
                    float4 f = src[c];
                    x[4 * c] = f.x; x[4 * c + 1] = f.y; x[4 * c + 2] = f.z; x[4 * c + 3] = f.w;
                }
                #pragma unroll
                for (int hh = 0; hh < GROUP; ++hh) {
                    const float l = lse[(long long)b * H + g * GROUP + hh];
                    #pragma unroll
                    for (int e = 0; e < 4; ++e) pv[e] += exp_ftz(x[e * GROUP + hh] - l);
                }
            }
            *reinterpret_cast<float4*>(prow + i) = make_float4(pv[0], pv[1], pv[2], pv[3]);
        }
        #pragma unroll
        for (int e = 0; e < 4; ++e) hist_add(h, __float_as_uint(pv[e]) >> 21, i + e < n);
    }
    __syncthreads();
    int* grow = hist + (long long)b * BINS;
    for (int i = tid; i < BINS; i += POOL_THREADS) if (h[i]) atomicAdd(&grow[i], h[i]);
}
