// Kascade anchor selection for decode (Deshmukh et al., arXiv 2512.16391): GQA-pooled post-softmax
// probabilities and their exact top-k, on the GPU.
//
// Compile-time definitions: GROUP (query heads per KV head).
//   pooled[b, g, n] = sum over the group's heads h of exp(logits[b, h, n] - lse[b, h])
// decode_pool computes it over the whole grid with the histogram of its top 11 bits; decode_select
// (one block of 1024 threads per (KV head, sequence)) finishes a radix select on the float bits
// (pooled >= 0, so the bits order like the values): digits of 11, 11 and 10 bits. Every key above
// the threshold is kept, and of the keys equal to it the lowest positions first. Indices are
// written in ascending position order: idx [B, G, idxRowStride].

#include <cuda_fp16.h>

constexpr int THREADS = 1024;
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
        warpSums[lane] = wi - w;            // exclusive over warps
        if (lane == 31) warpSums[32] = wi;
    }
    __syncthreads();
    int r = warpSums[warp] + inc - x;
    total = warpSums[32];
    __syncthreads();
    return r;
}

/// Adds one to hist[bin], one shared-memory atomic per distinct bin of the warp (pooled
/// probabilities crowd into few bins, so unaggregated atomics would serialise).
__device__ __forceinline__ void hist_add(int* hist, unsigned bin, bool active) {
    unsigned live = __ballot_sync(0xffffffffu, active);
    if (!active) return;
    unsigned same = __match_any_sync(live, bin);
    if ((threadIdx.x & 31) == __ffs(same) - 1) atomicAdd(&hist[bin], __popc(same));
}

/// Finds the bin holding the `need`-th largest (1-based) among hist[0 ..< bins], scanning from the
/// top, with the whole block (bins <= 2 * THREADS). Writes (bin, need remaining inside it) to sel.
__device__ __forceinline__ void pick_bin(const int* hist, int bins, int need, int* sel, int* warpSums) {
    const int t = threadIdx.x;
    const int hiBin = bins - 1 - 2 * t, loBin = hiBin - 1;         // descending pairs
    const int ch = hiBin >= 0 ? hist[hiBin] : 0, cl = loBin >= 0 ? hist[loBin] : 0;
    int total;
    const int above = block_exclusive_scan(ch + cl, warpSums, total);
    if (hiBin >= 0 && above < need && need <= above + ch) { sel[0] = hiBin; sel[1] = need - above; }
    else if (loBin >= 0 && above + ch < need && need <= above + ch + cl) { sel[0] = loBin; sel[1] = need - above - ch; }
    __syncthreads();
}

constexpr int POOL_THREADS = 256;
constexpr int POOL_ITERS = 8;                 // float4 groups per thread per block
constexpr int POOL_SPAN = POOL_THREADS * 4 * POOL_ITERS;

/// Pooled probabilities of one span of positions and the histogram of their top 11 bits:
/// grid (ceil(n / POOL_SPAN), G, B), 256 threads. logits [B, G, logitRowStride, GROUP];
/// hist [B, G, 2048] must start zeroed. Row strides are multiples of 4 (16-byte aligned rows).
extern "C" __global__ void __launch_bounds__(POOL_THREADS) decode_pool(
    const float* __restrict__ logits, long long logitRowStride, const float* __restrict__ lse,
    float* __restrict__ pooled, long long pooledRowStride, int* __restrict__ hist, int n)
{
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
    const int base = blockIdx.x * POOL_SPAN;
    #pragma unroll 2
    for (int it = 0; it < POOL_ITERS; ++it) {
        const int i = base + (it * POOL_THREADS + tid) * 4;
        float pv[4] = {0.f, 0.f, 0.f, 0.f};
        if (i < n) {
            const float4* src = reinterpret_cast<const float4*>(lrow + (long long)i * GROUP);  // 4 keys x GROUP
            float x[4 * GROUP];
            #pragma unroll
            for (int c = 0; c < GROUP; ++c) {
                float4 f = src[c];
                x[4 * c] = f.x; x[4 * c + 1] = f.y; x[4 * c + 2] = f.z; x[4 * c + 3] = f.w;
            }
            #pragma unroll
            for (int e = 0; e < 4; ++e) {
                #pragma unroll
                for (int hh = 0; hh < GROUP; ++hh) pv[e] += __expf(x[e * GROUP + hh] - lses[hh]);
            }
            *reinterpret_cast<float4*>(prow + i) = make_float4(pv[0], pv[1], pv[2], pv[3]);
        }
        #pragma unroll
        for (int e = 0; e < 4; ++e) hist_add(h, __float_as_uint(pv[e]) >> 21, i + e < n);
    }
    __syncthreads();
    int* grow = hist + ((long long)b * G + g) * BINS;
    for (int i = tid; i < BINS; i += POOL_THREADS) if (h[i]) atomicAdd(&grow[i], h[i]);
}

/// Top `k` of the pooled probabilities per (KV head, sequence), ascending positions, into
/// idx [B, G, idxRowStride]: grid (G, B), 1024 threads; hist from decode_pool.
extern "C" __global__ void __launch_bounds__(THREADS) decode_select(
    const float* __restrict__ pooled, long long pooledRowStride, const int* __restrict__ hist,
    int* __restrict__ idx, long long idxRowStride, int n, int k)
{
    __shared__ int h[BINS];
    __shared__ int warpSums[33];
    __shared__ int sel[2];
    const int g = blockIdx.x, b = blockIdx.y, G = gridDim.x;
    const int tid = threadIdx.x;
    const float* prow = pooled + ((long long)b * G + g) * pooledRowStride;
    int* irow = idx + ((long long)b * G + g) * idxRowStride;
    if (k >= n) {
        for (int i = tid; i < n; i += THREADS) irow[i] = i;
        return;
    }
    const int* grow = hist + ((long long)b * G + g) * BINS;
    for (int i = tid; i < BINS; i += THREADS) h[i] = grow[i];
    __syncthreads();
    pick_bin(h, BINS, k, sel, warpSums);
    unsigned prefix = (unsigned)sel[0] << 21;
    int need = sel[1];
    const int n4 = (n + 3) / 4 * 4;
    const int nRound = (n4 + 4 * THREADS - 1) / (4 * THREADS) * (4 * THREADS);

    // Pass 2: bits 20..10 among keys with the chosen top bits.
    for (int i = tid; i < BINS; i += THREADS) h[i] = 0;
    __syncthreads();
    for (int i = tid * 4; i < nRound; i += 4 * THREADS) {
        float4 p = i < n ? *reinterpret_cast<const float4*>(prow + i) : make_float4(0.f, 0.f, 0.f, 0.f);
        unsigned u[4] = {__float_as_uint(p.x), __float_as_uint(p.y), __float_as_uint(p.z), __float_as_uint(p.w)};
        #pragma unroll
        for (int e = 0; e < 4; ++e) hist_add(h, (u[e] >> 10) & 2047u, i + e < n && (u[e] >> 21) == (prefix >> 21));
    }
    __syncthreads();
    pick_bin(h, BINS, need, sel, warpSums);
    prefix |= (unsigned)sel[0] << 10;
    need = sel[1];

    // Pass 3: bits 9..0.
    for (int i = tid; i < 1024; i += THREADS) h[i] = 0;
    __syncthreads();
    for (int i = tid * 4; i < nRound; i += 4 * THREADS) {
        float4 p = i < n ? *reinterpret_cast<const float4*>(prow + i) : make_float4(0.f, 0.f, 0.f, 0.f);
        unsigned u[4] = {__float_as_uint(p.x), __float_as_uint(p.y), __float_as_uint(p.z), __float_as_uint(p.w)};
        #pragma unroll
        for (int e = 0; e < 4; ++e) hist_add(h, u[e] & 1023u, i + e < n && (u[e] >> 10) == (prefix >> 10));
    }
    __syncthreads();
    pick_bin(h, 1024, need, sel, warpSums);
    const unsigned thr = prefix | (unsigned)sel[0];
    const int takeEq = sel[1];               // keys equal to the threshold to keep, lowest first

    // Compaction: each thread owns a contiguous segment (a multiple of 4); one scan orders the output.
    const int seg = ((n + THREADS - 1) / THREADS + 3) / 4 * 4;
    const int lo = min(n, tid * seg), hi = min(n, lo + seg);
    int gt = 0, eq = 0;
    for (int i = lo; i < hi; i += 4) {
        float4 p = *reinterpret_cast<const float4*>(prow + i);
        unsigned u[4] = {__float_as_uint(p.x), __float_as_uint(p.y), __float_as_uint(p.z), __float_as_uint(p.w)};
        #pragma unroll
        for (int e = 0; e < 4; ++e) if (i + e < hi) { gt += u[e] > thr; eq += u[e] == thr; }
    }
    int tot;
    int gtBefore = block_exclusive_scan(gt, warpSums, tot);
    int eqBefore = block_exclusive_scan(eq, warpSums, tot);
    int pos = gtBefore + min(eqBefore, takeEq);
    int eqLeft = max(0, takeEq - eqBefore);
    for (int i = lo; i < hi; i += 4) {
        float4 p = *reinterpret_cast<const float4*>(prow + i);
        unsigned u[4] = {__float_as_uint(p.x), __float_as_uint(p.y), __float_as_uint(p.z), __float_as_uint(p.w)};
        #pragma unroll
        for (int e = 0; e < 4; ++e) {
            if (i + e < hi && (u[e] > thr || (u[e] == thr && eqLeft > 0))) {
                if (u[e] == thr) --eqLeft;
                irow[pos++] = i + e;
            }
        }
    }
}

/// Fills `count` elements with deterministic pseudo-random values in [-amp, amp): element i from
/// a hash of (i, seed). 16-bit elements (bf16 if isBF16, else fp16).
extern "C" __global__ void fill_random16(unsigned short* dst, long long count, unsigned long long seed,
                                         float amp, int isBF16)
{
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
