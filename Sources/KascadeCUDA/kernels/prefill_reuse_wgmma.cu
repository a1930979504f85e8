// Kascade prefill reuse on Hopper (Deshmukh, Goyal, Kwatra, Ramjee, arXiv 2512.16391; SPEC 2.2):
// prefill_reuse (prefill_attention.cu) with warpgroup matrix products (wgmma), after
// FlashAttention-3 (Shah et al., arXiv 2407.08608). Per 32-position tile starting at t0 and KV
// head g, the block's rows (query head g * GROUP + w, position t0 + i), row 32 w + i, attend to
// one key list: the tile's selected positions (through the head map) then its diagonal block
// t0 ... min(t0 + 31, N - 1), causal inside the block.
//
// Compiled after prefill_wgmma.cu (same translation unit; LSE_ONLY 0), whose helpers, tensor-map
// struct and constants (D, BN = TILE_N = 128, HALVES, KV_SLAB, KV_BYTES, STAGES, SN, ON, PK) it
// uses. Definitions: GROUP (2 or 4: one or two 64-row consumer warpgroups; other groups compile
// nothing here).
//
// The producer warpgroup gathers key and value rows with cp.async straight into the 128-byte
// swizzled layout that the wgmma descriptors read (the tensor memory accelerator cannot gather
// arbitrary rows): each warp 32 rows of a tile, one list entry per lane, whole rows per copy
// instruction; it waits for each tile's copies (two copy groups behind), fences them to the async
// proxy and arrives on the tile's mbarrier. The queries come by TMA (maps.q: q as (d, T, B*H), box (64, 32, 1); maps.k and
// maps.v unused). The consumers run the dense kernel's loop: online softmax in registers, P from
// registers, the next tile's score product issued before this tile's softmax, the two consumer
// warpgroups taking turns (GROUP 4).
#if GROUP == 2 || GROUP == 4

constexpr int R_ROWS = 32 * GROUP;
constexpr int R_CW = R_ROWS / 64;
constexpr int R_THREADS = 128 * (1 + R_CW);
constexpr int R_QSLAB = R_ROWS * 128;
constexpr int R_QBYTES = HALVES * R_QSLAB;
constexpr int R_OFF_K = R_QBYTES;
constexpr int R_OFF_V = R_OFF_K + STAGES * KV_BYTES;
constexpr int R_OFF_BAR = R_OFF_V + STAGES * KV_BYTES;
constexpr int R_PINGPONG = R_CW == 2;

__device__ __forceinline__ void cp_async16_zfill(unsigned dst, const void* src, bool valid) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" :: "r"(dst), "l"(src), "r"(valid ? 16 : 0) : "memory");
}

// Grid (rows, G, B) with rows the tiles covering the last T positions; R_THREADS threads; dynamic
// shared memory R_OFF_BAR + 8 * (1 + 4 * STAGES) + 1024 bytes. k, v [B, G, capacity, d] with batch
// and head strides in elements; idx [B, idxHeads, idxRows, cap], counts [B, idxHeads, idxRows] int32;
// headMap [G] (identity when null; ignored with one selection head); out [B, H, T, d].
extern "C" __global__ void __launch_bounds__(R_THREADS, 1)
prefill_reuse_wgmma(const __grid_constant__ TensorMaps maps, const kv_t* __restrict__ k, const kv_t* __restrict__ v,
                    long long kvBatchStride, long long kvHeadStride, int T, int N, float scale,
                    const int* __restrict__ idx, const int* __restrict__ counts, long long idxBatchStride,
                    long long idxHeadStride, int idxRows, int cap, int idxHeads, const int* __restrict__ headMap,
                    kv_t* __restrict__ out)
{
    extern __shared__ unsigned char smem_raw[];
    const unsigned raw = static_cast<unsigned>(__cvta_generic_to_shared(smem_raw));
    const unsigned base = (raw + 1023u) & ~1023u;
    const unsigned sQ = base, sK = base + R_OFF_K, sV = base + R_OFF_V;
    const unsigned barQ = base + R_OFF_BAR;
    auto fullK = [&](int s) { return barQ + 8u * (1 + s); };
    auto fullV = [&](int s) { return barQ + 8u * (1 + STAGES + s); };
    auto emptyK = [&](int s) { return barQ + 8u * (1 + 2 * STAGES + s); };
    auto emptyV = [&](int s) { return barQ + 8u * (1 + 3 * STAGES + s); };

    const int tr = gridDim.x - 1 - blockIdx.x;         // longest lists (latest tiles) first
    const int g = blockIdx.y, b = blockIdx.z;
    const int G = gridDim.y, H = G * GROUP;
    const int shift = N - T;
    const int t0 = (shift / 32 + tr) * 32;
    const int ga = idxHeads == 1 ? 0 : (headMap ? headMap[g] : g);
    const int cnt = counts[((long long)b * idxHeads + ga) * idxRows + tr];
    const int* irow = idx + b * idxBatchStride + ga * idxHeadStride + (long long)tr * cap;
    const int total = cnt + min(32, N - t0);
    const int ntiles = (total + BN - 1) / BN;
    const int tid = threadIdx.x;
    const int wg = tid >> 7;

    if (tid == 0) {
        mbar_init(barQ, 1);
        for (int s = 0; s < STAGES; ++s) {
            mbar_init(fullK(s), 128); mbar_init(fullV(s), 128);
            mbar_init(emptyK(s), 128 * R_CW); mbar_init(emptyV(s), 128 * R_CW);
        }
        asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
        asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
    }
    __syncthreads();

    if (wg == 0) {
#if R_CW > 1
        asm volatile("setmaxnreg.dec.sync.aligned.u32 40;\n" ::: "memory");
#endif
        if (tid == 0) {
            mbar_expect_tx(barQ, R_QBYTES);
            #pragma unroll
            for (int w = 0; w < GROUP; ++w) {
                #pragma unroll
                for (int x = 0; x < HALVES; ++x)
                    tma_load(sQ + x * R_QSLAB + w * 32 * 128, maps.q, barQ, x * 64, t0 - shift, b * H + g * GROUP + w);
            }
        }
        const kv_t* kb = k + b * kvBatchStride + g * kvHeadStride;
        const kv_t* vb = v + b * kvBatchStride + g * kvHeadStride;
        constexpr int CH = D / 8;                      // 16-byte chunks per row
        constexpr int RPI = 32 / CH;                   // rows per warp-wide copy instruction
        const int pw = tid >> 5, plane = tid & 31;     // producer warp w gathers rows 32 w ... 32 w + 31 of a tile
        // Key position of list entry j * BN + 32 pw + plane (-1 past the list).
        auto position = [&](int j) -> int {
            const int i = j * BN + 32 * pw + plane;
            return i >= total ? -1 : (i < cnt ? irow[i] : t0 + i - cnt);
        };
        // The warp's 32 rows of `src` at the positions `pos` (one per lane) into the stage at `dst`,
        // whole 256-byte rows per RPI lanes (coalesced), zeros past the list.
        auto gather = [&](unsigned dst, const kv_t* src, int pos) {
            #pragma unroll
            for (int m = 0; m < CH; ++m) {
                const int rl = m * RPI + plane / CH, ch = plane % CH;
                const int p = __shfl_sync(0xffffffffu, pos, rl);
                const int row = 32 * pw + rl;
                cp_async16_zfill(dst + (ch >> 3) * KV_SLAB + row * 128 + (((ch & 7) ^ (row & 7)) << 4),
                                 src + (long long)(p < 0 ? 0 : p) * D + ch * 8, p >= 0);
            }
            asm volatile("cp.async.commit_group;\n" ::: "memory");
        };
        // Copy groups go K0 V0 K1 V1 ...; after issuing one, the group two before it is complete at
        // wait_group 2: fence it to the async proxy and arrive on its barrier.
        auto publish = [&](unsigned bar) {
            asm volatile("cp.async.wait_group 2;\n" ::: "memory");
            asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
            mbar_arrive(bar);
        };
        int next = position(0);
        for (int j = 0; j < ntiles; ++j) {
            const int s = j % STAGES;
            const unsigned ph = (j / STAGES) & 1;
            const int pos = next;
            if (j + 1 < ntiles) next = position(j + 1);
            mbar_wait(emptyK(s), ph ^ 1);
            gather(sK + s * KV_BYTES, kb, pos);
            if (j > 0) publish(fullK((j - 1) % STAGES));
            mbar_wait(emptyV(s), ph ^ 1);
            gather(sV + s * KV_BYTES, vb, pos);
            if (j > 0) publish(fullV((j - 1) % STAGES));
        }
        asm volatile("cp.async.wait_group 0;\n" ::: "memory");
        asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
        mbar_arrive(fullK((ntiles - 1) % STAGES));
        mbar_arrive(fullV((ntiles - 1) % STAGES));
        return;
    }

#if R_CW > 1
    asm volatile("setmaxnreg.inc.sync.aligned.u32 232;\n" ::: "memory");
#endif
    const int c = wg - 1;
    const int t128 = tid & 127, warp = t128 >> 5, lane = t128 & 31;
    const int rowA = 64 * c + 16 * warp + (lane >> 2);  // block rows of this thread: rowA, rowA + 8 (same head)
    const int lim0 = min(total - 1, cnt + (rowA & 31)), lim1 = min(total - 1, cnt + (rowA & 31) + 8);
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
            unsigned long long da = smem_desc(qBase + (kk >> 2) * R_QSLAB + (kk & 3) * 32, 16, 1024);
            unsigned long long db = smem_desc(kb + (kk >> 2) * KV_SLAB + (kk & 3) * 32, 16, 1024);
            wgmma_ss<BN>(s, da, db, kk > 0);
        }
    };
    auto issue_pv = [&](int st) {
        const unsigned vb = sV + st * KV_BYTES;
        #pragma unroll
        for (int kk = 0; kk < PK; ++kk) {
            unsigned long long db = smem_desc(vb + kk * 2048, KV_SLAB, 1024);
            wgmma_rs<D>(o, &p[4 * kk], db, 1);
        }
    };
    // Masks tile j where it reaches the diagonal block or the list's end, updates the running max
    // and sum, leaves exp2 scores in s and the correction factors in corr.
    auto softmax = [&](int j, float* corr) {
        const int n0 = j * BN;
        if (n0 + BN - 1 > cnt) {
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
        corr[0] = fast_exp2((mrow[0] - mx0) * sl2);
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
    auto pack_p = [&]() {
        #pragma unroll
        for (int kk = 0; kk < PK; ++kk) {
            p[4 * kk + 0] = pack2(s[8 * kk + 0], s[8 * kk + 1]);
            p[4 * kk + 1] = pack2(s[8 * kk + 2], s[8 * kk + 3]);
            p[4 * kk + 2] = pack2(s[8 * kk + 4], s[8 * kk + 5]);
            p[4 * kk + 3] = pack2(s[8 * kk + 6], s[8 * kk + 7]);
        }
    };
    auto turn_wait = [&]() { if (R_PINGPONG) named_sync(1 + c, 256); };
    auto turn_pass = [&](bool last) { if (R_PINGPONG && !(last && c == 1)) named_arrive(2 - c, 256); };
    if (R_PINGPONG && c == 1) named_arrive(1, 256);

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

    #pragma unroll
    for (int r = 0; r < 2; ++r) {
        lrow[r] += __shfl_xor_sync(0xffffffffu, lrow[r], 1);
        lrow[r] += __shfl_xor_sync(0xffffffffu, lrow[r], 2);
    }
    const float inv0 = 1.f / lrow[0], inv1 = 1.f / lrow[1];
    const int head = g * GROUP + (rowA >> 5);
    const int pA = t0 + (rowA & 31), pB = pA + 8;
    kv_t* ob = out + ((long long)b * H + head) * (long long)T * D;
    const bool okA = pA >= shift && pA < N, okB = pB >= shift && pB < N;
    #pragma unroll
    for (int i = 0; i < ON / 4; ++i) {
        const int col = 8 * i + 2 * (lane & 3);
        if (okA) *reinterpret_cast<unsigned*>(ob + (long long)(pA - shift) * D + col) = pack2(o[4 * i] * inv0, o[4 * i + 1] * inv0);
        if (okB) *reinterpret_cast<unsigned*>(ob + (long long)(pB - shift) * D + col) = pack2(o[4 * i + 2] * inv1, o[4 * i + 3] * inv1);
    }
}
#endif
