// Kascade anchor selection for decode (Deshmukh et al., arXiv 2512.16391): GQA-pooled post-softmax
// probabilities and their exact top-k, on the GPU.
//
// Compile-time definitions: GROUP (query heads per KV head).
// One block of 1024 threads per (KV head, sequence): grid (G, B).
//   pooled[b, g, n] = sum over the group's heads h of exp(logits[b, h, n] - lse[b, h])
// The k-th largest value is found by a radix select on the float bits (pooled >= 0, so the bits
// order like the values): digits of 11, 11 and 10 bits, one histogram pass each. Then every key
// above the threshold is kept, and of the keys equal to it the lowest positions first. Indices are
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

/// Finds the bin holding the `need`-th largest (1-based) among hist, scanning from the top.
/// Thread 0 only; writes (bin, need remaining inside the bin) to sel.
__device__ __forceinline__ void pick_bin(const int* hist, int bins, int need, int* sel) {
    int acc = 0;
    for (int bin = bins - 1; bin >= 0; --bin) {
        int c = hist[bin];
        if (acc + c >= need) { sel[0] = bin; sel[1] = need - acc; return; }
        acc += c;
    }
    sel[0] = 0; sel[1] = need - acc;        // unreachable for need <= n
}

extern "C" __global__ void __launch_bounds__(THREADS) decode_pool_topk(
    const float* __restrict__ logits, long long logitRowStride, const float* __restrict__ lse,
    float* __restrict__ pooled, long long pooledRowStride,
    int* __restrict__ idx, long long idxRowStride, int n, int k)
{
    __shared__ int hist[BINS];
    __shared__ int warpSums[33];
    __shared__ int sel[2];
    const int g = blockIdx.x, b = blockIdx.y, G = gridDim.x, H = G * GROUP;
    const int tid = threadIdx.x;
    float* prow = pooled + ((long long)b * G + g) * pooledRowStride;
    int* irow = idx + ((long long)b * G + g) * idxRowStride;

    if (k >= n) {
        for (int i = tid; i < n; i += THREADS) irow[i] = i;
        return;
    }
    float lses[GROUP];
    const float* lrow[GROUP];
    #pragma unroll
    for (int h = 0; h < GROUP; ++h) {
        long long r = (long long)b * H + g * GROUP + h;
        lses[h] = lse[r];
        lrow[h] = logits + r * logitRowStride;
    }

    // Pass 1: pooled probabilities and the histogram of bits 31..21.
    for (int i = tid; i < BINS; i += THREADS) hist[i] = 0;
    __syncthreads();
    for (int i = tid; i < n; i += THREADS) {
        float p = 0.f;
        #pragma unroll
        for (int h = 0; h < GROUP; ++h) p += __expf(lrow[h][i] - lses[h]);
        prow[i] = p;
        atomicAdd(&hist[__float_as_uint(p) >> 21], 1);
    }
    __syncthreads();
    if (tid == 0) pick_bin(hist, BINS, k, sel);
    __syncthreads();
    unsigned prefix = (unsigned)sel[0] << 21;
    int need = sel[1];
    __syncthreads();

    // Pass 2: bits 20..10 among keys with the chosen top bits.
    for (int i = tid; i < BINS; i += THREADS) hist[i] = 0;
    __syncthreads();
    for (int i = tid; i < n; i += THREADS) {
        unsigned u = __float_as_uint(prow[i]);
        if ((u >> 21) == (prefix >> 21)) atomicAdd(&hist[(u >> 10) & 2047u], 1);
    }
    __syncthreads();
    if (tid == 0) pick_bin(hist, BINS, need, sel);
    __syncthreads();
    prefix |= (unsigned)sel[0] << 10;
    need = sel[1];
    __syncthreads();

    // Pass 3: bits 9..0.
    for (int i = tid; i < 1024; i += THREADS) hist[i] = 0;
    __syncthreads();
    for (int i = tid; i < n; i += THREADS) {
        unsigned u = __float_as_uint(prow[i]);
        if ((u >> 10) == (prefix >> 10)) atomicAdd(&hist[u & 1023u], 1);
    }
    __syncthreads();
    if (tid == 0) pick_bin(hist, 1024, need, sel);
    __syncthreads();
    const unsigned thr = prefix | (unsigned)sel[0];
    const int takeEq = sel[1];               // keys equal to the threshold to keep, lowest first

    // Compaction: each thread owns a contiguous segment; one scan orders the output.
    const int seg = (n + THREADS - 1) / THREADS;
    const int lo = min(n, tid * seg), hi = min(n, lo + seg);
    int gt = 0, eq = 0;
    for (int i = lo; i < hi; ++i) {
        unsigned u = __float_as_uint(prow[i]);
        gt += u > thr;
        eq += u == thr;
    }
    int tot;
    int gtBefore = block_exclusive_scan(gt, warpSums, tot);
    int eqBefore = block_exclusive_scan(eq, warpSums, tot);
    int pos = gtBefore + min(eqBefore, takeEq);
    int eqLeft = max(0, takeEq - eqBefore);
    for (int i = lo; i < hi; ++i) {
        unsigned u = __float_as_uint(prow[i]);
        if (u > thr || (u == thr && eqLeft > 0)) {
            if (u == thr) --eqLeft;
            irow[pos++] = i;
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
