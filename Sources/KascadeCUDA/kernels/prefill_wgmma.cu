// Dense causal prefill attention for Hopper (sm_90a), after FlashAttention-3 (Shah et al.,
// arXiv 2407.08608): warpgroup matrix products (wgmma) with Q, K and V tiles in shared memory in
// the 128-byte swizzled layout, loaded by the tensor memory accelerator (TMA) and completed on
// mbarriers, one producer warpgroup and two consumer warpgroups (64 query rows each), online
// softmax in registers, P fed to the second product from registers, and the next tile's score
// product issued before this tile's softmax (intra-warpgroup overlap).
// It also writes the per-row log-sum-exp, which Kascade's anchor layers need (Deshmukh et al.,
// arXiv 2512.16391).
//
// q [B, H, T, d]; k, v [B, G, capacity, d] with the first N positions valid; out [B, H, T, d] in
// the input type; lse [B, H, T] fp32 (natural log). Causal, bottom-right aligned: query t sees
// keys 0 ... N - T + t (T <= N).
// maps: three 128-byte tensor maps passed by value (cuTensorMapEncodeTiled, 16-bit elements,
// 128-byte swizzle, zero fill out of bounds): q as dims (d, T, B*H) with strides (2d, 2dT) bytes,
// box (64, 128, 1); k and v as dims (d, N, B*G) with strides (2d, 2d*capacity) bytes,
// box (64, TILE_N, 1). Keys and values past N read as zeros, queries past T likewise.
//
// Definitions: KV_BF16, HEAD_DIM (64, 128), TILE_N (64, 128), STAGES (2, 3); PINGPONG (1: the two
// consumer warpgroups take turns issuing their products, so one's softmax overlaps the other's
// products), EPI_SMEM (1: the output goes through shared memory for 16-byte stores).
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#if KV_BF16
typedef __nv_bfloat16 kv_t;
#define WG_T "bf16"
#else
typedef __half kv_t;
#define WG_T "f16"
#endif
#ifndef TILE_N
#define TILE_N 128
#endif
#ifndef STAGES
#define STAGES 2
#endif
#ifndef V_LBO_SWAP
#define V_LBO_SWAP 0
#endif
#ifndef PINGPONG
#define PINGPONG 1
#endif
#ifndef EPI_SMEM
#define EPI_SMEM 1
#endif

constexpr int D = HEAD_DIM;
constexpr int BM = 128;                        // query rows per block (two consumer warpgroups)
constexpr int BN = TILE_N;                     // keys per tile
constexpr int HALVES = D / 64;                 // 64-column (128-byte) slabs of a row
constexpr int Q_SLAB = BM * 128;               // bytes of one slab of the query tile
constexpr int KV_SLAB = BN * 128;              // bytes of one slab of a key or value tile
constexpr int Q_BYTES = HALVES * Q_SLAB;
constexpr int KV_BYTES = HALVES * KV_SLAB;
constexpr int OFF_K = Q_BYTES;
constexpr int OFF_V = OFF_K + STAGES * KV_BYTES;
constexpr int OFF_BAR = OFF_V + STAGES * KV_BYTES;
constexpr int SN = BN / 2;                     // score registers per thread
constexpr int ON = D / 2;                      // output registers per thread
constexpr int PK = BN / 16;                    // k-steps of the value product
constexpr float LOG2E = 1.4426950408889634f;
constexpr float LN2 = 0.6931471805599453f;

struct __align__(64) TensorMaps { unsigned long long q[16], k[16], v[16]; };

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

__device__ __forceinline__ void mbar_init(unsigned bar, unsigned count) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" :: "r"(bar), "r"(count));
}
__device__ __forceinline__ void mbar_expect_tx(unsigned bar, unsigned bytes) {
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" :: "r"(bar), "r"(bytes) : "memory");
}
__device__ __forceinline__ void mbar_arrive(unsigned bar) {
    asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" :: "r"(bar) : "memory");
}
__device__ __forceinline__ void mbar_wait(unsigned bar, unsigned parity) {
    asm volatile("{\n.reg .pred P1;\nLAB_WAIT:\n"
                 "mbarrier.try_wait.parity.shared::cta.b64 P1, [%0], %1;\n"
                 "@P1 bra DONE;\nbra LAB_WAIT;\nDONE:\n}\n" :: "r"(bar), "r"(parity) : "memory");
}
// Box of the 3-d tensor map `map` at (c0, c1, c2) into shared memory at `dst`, completing on `bar`.
__device__ __forceinline__ void tma_load(unsigned dst, const void* map, unsigned bar, int c0, int c1, int c2) {
    asm volatile("cp.async.bulk.tensor.3d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%3, %4, %5}], [%2];\n"
                 :: "r"(dst), "l"(map), "r"(bar), "r"(c0), "r"(c1), "r"(c2) : "memory");
}

__device__ __forceinline__ void named_sync(int id, int count) { asm volatile("bar.sync %0, %1;\n" :: "r"(id), "r"(count) : "memory"); }
__device__ __forceinline__ void named_arrive(int id, int count) { asm volatile("bar.arrive %0, %1;\n" :: "r"(id), "r"(count) : "memory"); }
__device__ __forceinline__ void wg_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wg_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
template <int N> __device__ __forceinline__ void wg_wait() { asm volatile("wgmma.wait_group.sync.aligned %0;\n" :: "n"(N) : "memory"); }
// Keeps the compiler from moving uses of an asynchronously written register across a wait.
template <int N> __device__ __forceinline__ void reg_fence(float* r) {
    #pragma unroll
    for (int i = 0; i < N; ++i) asm volatile("" : "+f"(r[i]) :: "memory");
}

// Shared-memory matrix descriptor, 128-byte swizzle; offsets in bytes.
__device__ __forceinline__ unsigned long long smem_desc(unsigned addr, unsigned lbo, unsigned sbo) {
    return (unsigned long long)((addr & 0x3FFFF) >> 4) | ((unsigned long long)((lbo & 0x3FFFF) >> 4) << 16)
         | ((unsigned long long)((sbo & 0x3FFFF) >> 4) << 32) | (1ull << 62);
}

// D[64 x 64] (+)= A[64 x 16] * B[16 x 64], A and B K-major in shared memory.
__device__ __forceinline__ void wgmma_ss_n64(float* d, unsigned long long da, unsigned long long db, int accumulate) {
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %34, 0;\n"
                 "wgmma.mma_async.sync.aligned.m64n64k16.f32." WG_T "." WG_T " {%0,%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13,%14,%15,%16,%17,%18,%19,%20,%21,%22,%23,%24,%25,%26,%27,%28,%29,%30,%31}, %32, %33, p, 1, 1, 0, 0;\n}\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
                   "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
                   "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
                   "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
                 : "l"(da), "l"(db), "r"(accumulate));
}

// D[64 x 64] (+)= A[64 x 16] (registers) * B[16 x 64], B N-major in shared memory.
__device__ __forceinline__ void wgmma_rs_n64(float* d, const unsigned* a, unsigned long long db, int accumulate) {
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %37, 0;\n"
                 "wgmma.mma_async.sync.aligned.m64n64k16.f32." WG_T "." WG_T " {%0,%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13,%14,%15,%16,%17,%18,%19,%20,%21,%22,%23,%24,%25,%26,%27,%28,%29,%30,%31}, {%32,%33,%34,%35}, %36, p, 1, 1, 1;\n}\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
                   "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
                   "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
                   "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(db), "r"(accumulate));
}

// D[64 x 128] (+)= A[64 x 16] * B[16 x 128], A and B K-major in shared memory.
__device__ __forceinline__ void wgmma_ss_n128(float* d, unsigned long long da, unsigned long long db, int accumulate) {
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"
                 "wgmma.mma_async.sync.aligned.m64n128k16.f32." WG_T "." WG_T " {%0,%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13,%14,%15,%16,%17,%18,%19,%20,%21,%22,%23,%24,%25,%26,%27,%28,%29,%30,%31,%32,%33,%34,%35,%36,%37,%38,%39,%40,%41,%42,%43,%44,%45,%46,%47,%48,%49,%50,%51,%52,%53,%54,%55,%56,%57,%58,%59,%60,%61,%62,%63}, %64, %65, p, 1, 1, 0, 0;\n}\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
                   "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
                   "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
                   "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
                   "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),
                   "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),
                   "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
                   "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
                 : "l"(da), "l"(db), "r"(accumulate));
}

// D[64 x 128] (+)= A[64 x 16] (registers) * B[16 x 128], B N-major in shared memory.
__device__ __forceinline__ void wgmma_rs_n128(float* d, const unsigned* a, unsigned long long db, int accumulate) {
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %69, 0;\n"
                 "wgmma.mma_async.sync.aligned.m64n128k16.f32." WG_T "." WG_T " {%0,%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13,%14,%15,%16,%17,%18,%19,%20,%21,%22,%23,%24,%25,%26,%27,%28,%29,%30,%31,%32,%33,%34,%35,%36,%37,%38,%39,%40,%41,%42,%43,%44,%45,%46,%47,%48,%49,%50,%51,%52,%53,%54,%55,%56,%57,%58,%59,%60,%61,%62,%63}, {%64,%65,%66,%67}, %68, p, 1, 1, 1;\n}\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
                   "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
                   "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
                   "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
                   "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),
                   "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),
                   "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
                   "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(db), "r"(accumulate));
}

template <int N> __device__ __forceinline__ void wgmma_ss(float* d, unsigned long long da, unsigned long long db, int acc) {
    if constexpr (N == 128) wgmma_ss_n128(d, da, db, acc); else wgmma_ss_n64(d, da, db, acc);
}
template <int N> __device__ __forceinline__ void wgmma_rs(float* d, const unsigned* a, unsigned long long db, int acc) {
    if constexpr (N == 128) wgmma_rs_n128(d, a, db, acc); else wgmma_rs_n64(d, a, db, acc);
}

// Grid: (ceil(T / 128), H, B); block 384 threads (warpgroup 0 loads, 1 and 2 compute); dynamic
// shared memory HALVES * (128 + 2 * STAGES * TILE_N) * 128 + 8 * (1 + 4 * STAGES) + 1024 bytes.
extern "C" __global__ void __launch_bounds__(384, 1)
prefill_wgmma(const __grid_constant__ TensorMaps maps, int T, int N, int group, float scale,
              kv_t* __restrict__ out, float* __restrict__ lse)
{
    extern __shared__ unsigned char smem_raw[];
    const unsigned raw = static_cast<unsigned>(__cvta_generic_to_shared(smem_raw));
    const unsigned base = (raw + 1023u) & ~1023u;      // swizzle atoms need 1024-byte alignment
    const unsigned sQ = base, sK = base + OFF_K, sV = base + OFF_V;
    const unsigned barQ = base + OFF_BAR;
    // fullK[s], fullV[s], emptyK[s], emptyV[s]
    auto fullK = [&](int s) { return barQ + 8u * (1 + s); };
    auto fullV = [&](int s) { return barQ + 8u * (1 + STAGES + s); };
    auto emptyK = [&](int s) { return barQ + 8u * (1 + 2 * STAGES + s); };
    auto emptyV = [&](int s) { return barQ + 8u * (1 + 3 * STAGES + s); };

    const int mb = gridDim.x - 1 - blockIdx.x;         // longest blocks first
    const int h = blockIdx.y, b = blockIdx.z;
    const int H = gridDim.y;
    const int G = H / group;
    const int g = h / group;
    const int m0 = mb * BM;
    const int shift = N - T;
    const int nEnd = min(N, shift + min(m0 + BM, T));
    const int ntiles = (nEnd + BN - 1) / BN;
    const int tid = threadIdx.x;
    const int wg = tid >> 7;

    if (tid == 0) {
        mbar_init(barQ, 1);
        for (int s = 0; s < STAGES; ++s) {
            mbar_init(fullK(s), 1); mbar_init(fullV(s), 1);
            mbar_init(emptyK(s), 256); mbar_init(emptyV(s), 256);
        }
        asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
        asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
    }
    __syncthreads();

    if (wg == 0) {
        asm volatile("setmaxnreg.dec.sync.aligned.u32 24;\n" ::: "memory");
        if (tid == 0) {
            const void* mq = maps.q;
            const void* mk = maps.k;
            const void* mv = maps.v;
            mbar_expect_tx(barQ, Q_BYTES);
            #pragma unroll
            for (int x = 0; x < HALVES; ++x) tma_load(sQ + x * Q_SLAB, mq, barQ, x * 64, m0, b * H + h);
            for (int j = 0; j < ntiles; ++j) {
                const int s = j % STAGES;
                const unsigned ph = (j / STAGES) & 1;
                mbar_wait(emptyK(s), ph ^ 1);
                mbar_expect_tx(fullK(s), KV_BYTES);
                #pragma unroll
                for (int x = 0; x < HALVES; ++x) tma_load(sK + s * KV_BYTES + x * KV_SLAB, mk, fullK(s), x * 64, j * BN, b * G + g);
                mbar_wait(emptyV(s), ph ^ 1);
                mbar_expect_tx(fullV(s), KV_BYTES);
                #pragma unroll
                for (int x = 0; x < HALVES; ++x) tma_load(sV + s * KV_BYTES + x * KV_SLAB, mv, fullV(s), x * 64, j * BN, b * G + g);
            }
        }
        return;
    }

    asm volatile("setmaxnreg.inc.sync.aligned.u32 240;\n" ::: "memory");
    const int c = wg - 1;                              // consumer warpgroup: rows m0 + 64c ...
    const int t128 = tid & 127, warp = t128 >> 5, lane = t128 & 31;
    const int row0 = m0 + 64 * c + 16 * warp + (lane >> 2);   // this thread's rows: row0, row0 + 8
    const int lim0 = min(N - 1, shift + row0), lim1 = min(N - 1, shift + row0 + 8);
    const int wgFirstLimit = shift + m0 + 64 * c;       // smallest limit of the warpgroup's rows
    const float sl2 = scale * LOG2E;
    const unsigned qBase = sQ + c * 64 * 128;

    float o[ON], s[SN];
    unsigned p[PK * 4];
    float mrow[2] = {-__int_as_float(0x7f800000), -__int_as_float(0x7f800000)}, lrow[2] = {0.f, 0.f};
    #pragma unroll
    for (int i = 0; i < ON; ++i) o[i] = 0.f;

    auto issue_qk = [&](int st) {
        const unsigned kb = sK + st * KV_BYTES;
        #pragma unroll
        for (int kk = 0; kk < D / 16; ++kk) {
            unsigned long long da = smem_desc(qBase + (kk >> 2) * Q_SLAB + (kk & 3) * 32, 16, 1024);
            unsigned long long db = smem_desc(kb + (kk >> 2) * KV_SLAB + (kk & 3) * 32, 16, 1024);
            wgmma_ss<BN>(s, da, db, kk > 0);
        }
    };
    auto issue_pv = [&](int st) {
        const unsigned vb = sV + st * KV_BYTES;
        #pragma unroll
        for (int kk = 0; kk < PK; ++kk) {
#if V_LBO_SWAP
            unsigned long long db = smem_desc(vb + kk * 2048, 1024, KV_SLAB);
#else
            unsigned long long db = smem_desc(vb + kk * 2048, KV_SLAB, 1024);
#endif
            wgmma_rs<D>(o, &p[4 * kk], db, 1);
        }
    };
    // Masks tile j (when it reaches past the warpgroup's first row), updates the running max and
    // sum, leaves exp2 scores in s and the correction factors in corr.
    auto softmax = [&](int j, float* corr) {
        const int n0 = j * BN;
        if (n0 + BN - 1 > wgFirstLimit || n0 + BN > N) {
            #pragma unroll
            for (int i = 0; i < SN / 4; ++i) {
                const int n = n0 + 8 * i + 2 * (lane & 3);
                if (n > lim0) s[4 * i] = -__int_as_float(0x7f800000);
                if (n + 1 > lim0) s[4 * i + 1] = -__int_as_float(0x7f800000);
                if (n > lim1) s[4 * i + 2] = -__int_as_float(0x7f800000);
                if (n + 1 > lim1) s[4 * i + 3] = -__int_as_float(0x7f800000);
            }
        }
        float mx0 = mrow[0], mx1 = mrow[1];
        #pragma unroll
        for (int i = 0; i < SN / 4; ++i) {
            mx0 = fmaxf(mx0, fmaxf(s[4 * i], s[4 * i + 1]));
            mx1 = fmaxf(mx1, fmaxf(s[4 * i + 2], s[4 * i + 3]));
        }
        mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 1));
        mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 2));
        mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 1));
        mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 2));
        corr[0] = fast_exp2((mrow[0] - mx0) * sl2);     // exp2(-inf) = 0 on the first tile
        corr[1] = fast_exp2((mrow[1] - mx1) * sl2);
        mrow[0] = mx0; mrow[1] = mx1;
        const float ms0 = mx0 * sl2, ms1 = mx1 * sl2;
        float rs0 = 0.f, rs1 = 0.f;
        #pragma unroll
        for (int i = 0; i < SN / 4; ++i) {
            s[4 * i] = fast_exp2(fmaf(s[4 * i], sl2, -ms0));
            s[4 * i + 1] = fast_exp2(fmaf(s[4 * i + 1], sl2, -ms0));
            s[4 * i + 2] = fast_exp2(fmaf(s[4 * i + 2], sl2, -ms1));
            s[4 * i + 3] = fast_exp2(fmaf(s[4 * i + 3], sl2, -ms1));
            rs0 += s[4 * i] + s[4 * i + 1];
            rs1 += s[4 * i + 2] + s[4 * i + 3];
        }
        lrow[0] = lrow[0] * corr[0] + rs0;
        lrow[1] = lrow[1] * corr[1] + rs1;
    };
    // P in the A-operand register layout: k-step kk covers score n-tiles 2kk and 2kk + 1.
    auto pack_p = [&]() {
        #pragma unroll
        for (int kk = 0; kk < PK; ++kk) {
            p[4 * kk + 0] = pack2(s[8 * kk + 0], s[8 * kk + 1]);
            p[4 * kk + 1] = pack2(s[8 * kk + 2], s[8 * kk + 3]);
            p[4 * kk + 2] = pack2(s[8 * kk + 4], s[8 * kk + 5]);
            p[4 * kk + 3] = pack2(s[8 * kk + 6], s[8 * kk + 7]);
        }
    };

    // Turn-taking (PINGPONG): warpgroup c issues its products after bar.sync(1 + c) and then lets
    // the other one go (bar.arrive(2 - c)); warpgroup 1 lets warpgroup 0 go first. Each issues
    // ntiles + 1 blocks, so the last arrive of warpgroup 1 is skipped to leave no barrier pending.
    auto turn_wait = [&]() { if (PINGPONG) named_sync(1 + c, 256); };
    auto turn_pass = [&](bool last) { if (PINGPONG && !(last && c == 1)) named_arrive(2 - c, 256); };
    if (PINGPONG && c == 1) named_arrive(1, 256);

    mbar_wait(barQ, 0);
    float corr[2];
    mbar_wait(fullK(0), 0);
    turn_wait();
    wg_fence();
    issue_qk(0);
    wg_commit();
    turn_pass(false);
    wg_wait<0>();
    reg_fence<SN>(s);
    mbar_arrive(emptyK(0));
    softmax(0, corr);
    pack_p();
    for (int j = 1; j < ntiles; ++j) {
        const int st = j % STAGES, pst = (j - 1) % STAGES;
        mbar_wait(fullK(st), (j / STAGES) & 1);
        mbar_wait(fullV(pst), ((j - 1) / STAGES) & 1);
        turn_wait();
        wg_fence();
        issue_qk(st);
        wg_commit();
        issue_pv(pst);
        wg_commit();
        turn_pass(false);
        wg_wait<1>();
        reg_fence<SN>(s);
        mbar_arrive(emptyK(st));
        softmax(j, corr);
        wg_wait<0>();
        reg_fence<ON>(o);
        mbar_arrive(emptyV(pst));
        #pragma unroll
        for (int i = 0; i < ON / 4; ++i) {
            o[4 * i] *= corr[0]; o[4 * i + 1] *= corr[0];
            o[4 * i + 2] *= corr[1]; o[4 * i + 3] *= corr[1];
        }
        pack_p();
    }
    {
        const int lst = (ntiles - 1) % STAGES;
        mbar_wait(fullV(lst), ((ntiles - 1) / STAGES) & 1);
        turn_wait();
        wg_fence();
        issue_pv(lst);
        wg_commit();
        turn_pass(true);
        wg_wait<0>();
        reg_fence<ON>(o);
    }

    // Row sums over the quad, normalise, write.
    #pragma unroll
    for (int r = 0; r < 2; ++r) {
        lrow[r] += __shfl_xor_sync(0xffffffffu, lrow[r], 1);
        lrow[r] += __shfl_xor_sync(0xffffffffu, lrow[r], 2);
    }
    const float inv0 = 1.f / lrow[0], inv1 = 1.f / lrow[1];
    kv_t* ob = out + ((long long)b * H + h) * (long long)T * D;
#if EPI_SMEM
    // The warpgroup's own query rows of the Q tile (64 rows of each 128-byte slab) are no longer
    // read: stage the output there in the same slab layout, 16-byte chunks XOR-swizzled by row,
    // then store 16 bytes a thread.
    {
        unsigned char* stage = smem_raw + (sQ - raw) + c * 64 * 128;
        const int r0 = 16 * warp + (lane >> 2), r1 = r0 + 8;
        #pragma unroll
        for (int i = 0; i < ON / 4; ++i) {
            unsigned char* slab = stage + (i >> 3) * Q_SLAB + (lane & 3) * 4;
            *reinterpret_cast<unsigned*>(slab + r0 * 128 + (((i & 7) ^ (r0 & 7)) << 4)) = pack2(o[4 * i] * inv0, o[4 * i + 1] * inv0);
            *reinterpret_cast<unsigned*>(slab + r1 * 128 + (((i & 7) ^ (r1 & 7)) << 4)) = pack2(o[4 * i + 2] * inv1, o[4 * i + 3] * inv1);
        }
        named_sync(3 + c, 128);
        constexpr int CH = D / 8;                      // 16-byte chunks per row
        #pragma unroll
        for (int x = t128; x < 64 * CH; x += 128) {
            const int r = x / CH, ch = x % CH;
            const int row = m0 + 64 * c + r;
            const uint4 val = *reinterpret_cast<const uint4*>(stage + (ch >> 3) * Q_SLAB + r * 128 + (((ch & 7) ^ (r & 7)) << 4));
            if (row < T) *reinterpret_cast<uint4*>(ob + (long long)row * D + ch * 8) = val;
        }
    }
#else
    #pragma unroll
    for (int i = 0; i < ON / 4; ++i) {
        const int col = 8 * i + 2 * (lane & 3);
        if (row0 < T) *reinterpret_cast<unsigned*>(ob + (long long)row0 * D + col) = pack2(o[4 * i] * inv0, o[4 * i + 1] * inv0);
        if (row0 + 8 < T) *reinterpret_cast<unsigned*>(ob + (long long)(row0 + 8) * D + col) = pack2(o[4 * i + 2] * inv1, o[4 * i + 3] * inv1);
    }
#endif
    if (lse && (lane & 3) == 0) {
        float* lb = lse + ((long long)b * H + h) * (long long)T;
        if (row0 < T) lb[row0] = (mrow[0] * sl2 + __log2f(lrow[0])) * LN2;
        if (row0 + 8 < T) lb[row0 + 8] = (mrow[1] * sl2 + __log2f(lrow[1])) * LN2;
    }
}
