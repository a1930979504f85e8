// Device helpers shared by the kernel files that KernelSource prefixes with this one (decode
// attention on CUDA and tensor cores, the anchor selection, the Quest/Twilight/vAttention decode
// kernels, the mma.sync prefill and the mma.sync prefill anchor): the element type, conversions,
// fast exp2 and exp, the m16n8k16 tensor-core product with its ldmatrix loads, cp.async copies,
// gather positions, L2 line prefetches and the radix selections' histogram add.
// Definition read here: KV_BF16 (1: bf16, 0 or absent: fp16).
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#define NEG_INF (-__int_as_float(0x7f800000))
#define POS_INF (__int_as_float(0x7f800000))

#if KV_BF16
typedef __nv_bfloat16 kv_t;
#else
typedef __half kv_t;
#endif

__device__ __forceinline__ float to_float(kv_t x) {
#if KV_BF16
    return __bfloat162float(x);
#else
    return __half2float(x);
#endif
}

__device__ __forceinline__ float2 unpack2(unsigned w) {
#if KV_BF16
    return make_float2(__uint_as_float(w << 16), __uint_as_float(w & 0xffff0000u));
#else
    __half2 h = *reinterpret_cast<__half2*>(&w);
    return __half22float2(h);
#endif
}

__device__ __forceinline__ unsigned pack2(float lo, float hi) {
#if KV_BF16
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
#else
    __half2 v = __floats2half2_rn(lo, hi);
#endif
    return *reinterpret_cast<unsigned*>(&v);
}

__device__ __forceinline__ float fast_exp2(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}

/// exp(x) as __expf computes it (ex2.approx of x times log2 e rounded to float), except that results
/// below 2^-126 flush to zero: two instructions where __expf spends seven keeping subnormal results.
/// Bit for bit __expf's value wherever that is at least 2^-126.
__device__ __forceinline__ float exp_ftz(float x) {
    float y;
    asm("mul.ftz.f32 %0, %1, 0f3FB8AA3B;" : "=f"(y) : "f"(x));
    return fast_exp2(y);
}

__device__ __forceinline__ void mma16816(float* c, const unsigned* a, unsigned b0, unsigned b1) {
#if KV_BF16
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#else
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#endif
}

__device__ __forceinline__ void ldmatrix_x4(unsigned* r, const void* p) {
    unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(p));
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(s));
}

__device__ __forceinline__ void ldmatrix_x4_trans(unsigned* r, const void* p) {
    unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(p));
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(s));
}

__device__ __forceinline__ void cp_async16(void* smem, const void* gmem, bool valid) {
    unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
    int size = valid ? 16 : 0;                // 0: zero-fill, nothing read
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" :: "r"(s), "l"(gmem), "r"(size));
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }

template <int N> __device__ __forceinline__ void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" :: "n"(N));
}

/// Position i of a gather's index row (i clamped into [0, last]; the row holds last + 1 >= 1 entries),
/// read as an ordered asm statement: a thread's reads issued in a row stay ahead of the copies that
/// use them, so their latencies overlap instead of each read waiting next to its use.
__device__ __forceinline__ int load_position(const int* row, int i, int last) {
    int v;
    asm volatile("ld.global.nc.s32 %0, [%1];" : "=r"(v) : "l"(row + max(0, min(i, last))));
    return v;
}

// Asks L2 for the 128-byte line holding `p`.
__device__ __forceinline__ void l2_prefetch_line(const void* p) {
    asm volatile("prefetch.global.L2 [%0];\n" :: "l"(p));
}

/// Adds one to hist[bin] when `active`. A plain shared-memory atomic: aggregating a warp's equal bins
/// first (__match_any_sync) measured slower on the H100, also where pooled probabilities crowd into
/// few bins (bench/results/hist-mode).
__device__ __forceinline__ void hist_add(int* hist, unsigned bin, bool active) {
    if (active) atomicAdd(&hist[bin], 1);
}
