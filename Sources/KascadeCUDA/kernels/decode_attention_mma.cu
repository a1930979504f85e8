// Decode attention on tensor cores (mma.sync m16n8k16, fp32 accumulation): the same kernels,
// arguments and entry points (decode_attention_entries.cu) as decode_attention.cu, for dense decode, Kascade's layer 0 and anchor
// scores (Deshmukh et al., arXiv 2512.16391) and sparse attention over index lists.
//
// The GROUP query heads of a KV head are the rows of a 16-row tile (rows >= GROUP are zero), so
// one mma covers the whole group. A block of 4 warps streams tiles of 64 keys through shared
// memory with cp.async; each warp owns 16 keys of every tile and keeps its own online-softmax
// state; the warps merge at the end of the split. Scores go to logits [B, G, rowStride, GROUP]. P is rounded to the input type for the second
// product, as in FlashAttention.
//
// Definitions: KV_BF16, HEAD_DIM (64, 128), GROUP (<= 16), PIPE_STAGES.

#ifndef PIPE_STAGES
#define PIPE_STAGES 2
#endif
// L2_PREFETCH = 1: besides the cp.async stages, every thread asks L2 for the 128-byte lines of its rows
// of the tile after the newest stage, so more bytes are on their way from DRAM than shared memory
// holds; gathers read those positions one tile earlier still (a second register set of positions).
// Quest's page lists are not prefetched.
#ifndef L2_PREFETCH
#define L2_PREFETCH 0
#endif

constexpr int D = HEAD_DIM;
constexpr int THREADS = 128;
constexpr int WARPS = 4;
constexpr int KPW = 16;                       // keys per warp per tile
constexpr int TILE = WARPS * KPW;             // 64 keys per tile
constexpr int STAGES = PIPE_STAGES;
constexpr int ROW_BYTES = D * 2;
constexpr int ROW_STRIDE = ROW_BYTES + 16;    // padded rows: conflict-free ldmatrix
constexpr int CHUNKS = ROW_BYTES / 16;
constexpr int KSTEPS = D / 16;                // k-steps of the score product
constexpr int NT = D / 8;                     // n-tiles of the output

// LOGITS_IN (gathers only, GROUP a multiple of 4): the scores of the listed keys are read from
// `logits` (the anchor's own scaled scores, row g) instead of computed, so only value rows are
// gathered; the rows of the score tile past GROUP are -inf.
// PAGE_LIST (Quest): the keys are the pages plist[b, g, 0 ..< pcount[b, g]] (16 positions each,
// ascending), dealt out to the splits in runs of a multiple of 4 pages (at most ceil(count / minPer)
// splits used); a warp's 16 keys of a tile are one page, and a key counts for query head hh only
// where bit hh of the page's word pbits[b, g, slot] is set. n is the context length.
template <bool INDEXED, bool DO_PV, bool WRITE_LOGITS, bool LOGITS_IN = false, bool PAGE_LIST = false>
__device__ __forceinline__ void decode_split(
    const kv_t* __restrict__ q, const kv_t* __restrict__ k, const kv_t* __restrict__ v,
    long long kvBatchStride, long long kvHeadStride,
    const int* __restrict__ idx, long long idxBatchStride, long long idxRowStride,
    const int* __restrict__ headMap, int n, int chunk, float scale,
    float* __restrict__ partO, float2* __restrict__ partML, int splits,
    float* __restrict__ logits, long long logitRowStride,
    const int* __restrict__ plist = nullptr, const unsigned* __restrict__ pbits = nullptr,
    const int* __restrict__ pcount = nullptr, long long listStride = 0, int minPer = 4)
{
    extern __shared__ __align__(128) unsigned char smem[];
    unsigned char* qs = smem;                                   // [16][ROW_STRIDE] rows of q
    unsigned char* ks = smem + 16 * ROW_STRIDE;                 // [STAGES][TILE][ROW_STRIDE]
    unsigned char* vs = ks + STAGES * TILE * ROW_STRIDE;        // same, values

    const int split = blockIdx.x, g = blockIdx.y, b = blockIdx.z;
    const int H = gridDim.y * GROUP;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    int begin = split * chunk, end = min(n, begin + chunk);
    const int* plrow = nullptr;
    const unsigned* pbrow = nullptr;
    if (PAGE_LIST) {
        const long long row = (long long)b * gridDim.y + g;
        const int count = pcount[row];
        const int used = max(1, min((int)gridDim.x, (count + minPer - 1) / minPer));
        const int per = ((count + used - 1) / used + 3) & ~3;
        const int p0 = min(count, split * per);
        begin = p0 * 16;
        end = min(count, p0 + per) * 16;
        plrow = plist + row * listStride;
        pbrow = pbits + row * listStride;
    }
    // PAGE_LIST: each stage's 4 page numbers and head bits (written by thread 0 with the tile's loads).
    int* tilePages = reinterpret_cast<int*>(smem + 16 * ROW_STRIDE + 2 * STAGES * TILE * ROW_STRIDE);
    unsigned* tileBits = reinterpret_cast<unsigned*>(tilePages + 4 * STAGES);

    // Query rows (zero beyond GROUP).
    for (int i = tid; i < 16 * CHUNKS && !LOGITS_IN; i += THREADS) {
        int r = i / CHUNKS, c = i % CHUNKS;
        uint4 val = make_uint4(0, 0, 0, 0);
        if (r < GROUP) val = *reinterpret_cast<const uint4*>(q + ((long long)b * H + g * GROUP + r) * D + c * 8);
        *reinterpret_cast<uint4*>(qs + r * ROW_STRIDE + c * 16) = val;
    }
    float* ls = reinterpret_cast<float*>(ks);                  // LOGITS_IN: [STAGES][TILE][GROUP]
    const float* lrow = LOGITS_IN ? logits + ((long long)b * gridDim.y + g) * logitRowStride * GROUP : nullptr;
    const kv_t* kb = k + b * kvBatchStride + g * kvHeadStride;
    const kv_t* vb = v + b * kvBatchStride + g * kvHeadStride;
    const int* irow = nullptr;
    if (INDEXED) {
        int ga = headMap ? headMap[g] : g;
        irow = idx + b * idxBatchStride + ga * idxRowStride;
    }
    // Each thread copies LOADS 16-byte pieces of a tile: rows tid / CHUNKS + i * ROWS_PER_PASS, column
    // tid % CHUNKS. Gathers read the positions of the next tile one iteration early (pidx), so the
    // index load's latency stays off the row copies.
    constexpr int LOADS = TILE * CHUNKS / THREADS;
    constexpr int ROWS_PER_PASS = THREADS / CHUNKS;
    int pidx[LOADS];
    int qidx[LOADS];                            // L2_PREFETCH gathers: positions of the tile after pidx's
    constexpr bool GATHER_AHEAD = INDEXED && L2_PREFETCH > 0;
    int4 npg = make_int4(0, 0, 0, 0);           // PAGE_LIST: the next tile's 4 pages and their bits
    uint4 nbits = make_uint4(0, 0, 0, 0);
    // The positions of this thread's rows of the tile at t0 (past the split: the key index itself).
    auto read_positions = [&](int t0, int (&dst)[LOADS]) {
        #pragma unroll
        for (int i = 0; i < LOADS; ++i) {
            int j = t0 + tid / CHUNKS + i * ROWS_PER_PASS;
            dst[i] = j;
            if (INDEXED && LOGITS_IN) {
                // The anchor's value gather: positions read ahead of their copies (6.3 against 8.0 us
                // at batch 1, 8k on the H100); the reuse gathers measured slower so (8.1 against 7.5).
                const int pos = load_position(irow, j, end - 1);
                if (j < end) dst[i] = pos;
            } else if (INDEXED && j < end) {
                dst[i] = irow[j];
            }
        }
    };
    auto fetch_idx = [&](int t0) {
        if (PAGE_LIST) {
            if (t0 < end) {                       // t0 / 16 is a multiple of 4: one 16-byte load each
                npg = *reinterpret_cast<const int4*>(plrow + t0 / 16);
                nbits = *reinterpret_cast<const uint4*>(pbrow + t0 / 16);
            }
            return;
        }
        read_positions(t0, pidx);
    };
    // L2_PREFETCH: the 128-byte line of the K (and V) row at pos that starts at column col (a
    // multiple of 8), asked of L2.
    auto prefetch_line = [&](long long pos, int col) {
        if (!LOGITS_IN) l2_prefetch_line(kb + pos * D + col * 8);
        if (DO_PV) l2_prefetch_line(vb + pos * D + col * 8);
    };
    // GATHER_AHEAD: pidx takes the positions read one tile ago (tile t0), whose lines are then asked
    // of L2, and qidx starts reading those of the tile after.
    auto advance_idx = [&](int t0) {
        #pragma unroll
        for (int i = 0; i < LOADS; ++i) {
            pidx[i] = qidx[i];
            const int r = tid / CHUNKS + i * ROWS_PER_PASS, col = tid % CHUNKS;
            if (t0 + r < end && col % 8 == 0) prefetch_line(pidx[i], col);
            const int j = t0 + TILE + r;          // read_positions' row, interleaved with the prefetches
            qidx[i] = j < end ? irow[j] : j;
        }
    };
    auto load_tile = [&](int t0, int stage) {
        if (PAGE_LIST && tid == 0) {
            *reinterpret_cast<int4*>(tilePages + 4 * stage) = npg;
            *reinterpret_cast<uint4*>(tileBits + 4 * stage) = nbits;
        }
        #pragma unroll
        for (int i = 0; i < LOADS; ++i) {
            int r = tid / CHUNKS + i * ROWS_PER_PASS, col = tid % CHUNKS;
            int j = t0 + r;
            bool valid = j < end;
            long long pos = valid ? (INDEXED ? (long long)pidx[i] : (long long)j) : 0;
            if (PAGE_LIST) {
                const int w = r >> 4;
                const int pg = w == 0 ? npg.x : (w == 1 ? npg.y : (w == 2 ? npg.z : npg.w));
                pos = (long long)pg * 16 + (r & 15);
                valid = valid && pos < n;
                if (!valid) pos = 0;
            }
            size_t off = (size_t)(stage * TILE + r) * ROW_STRIDE + col * 16;
            if (LOGITS_IN) {
                if (col < GROUP / 4) cp_async16(ls + (stage * TILE + r) * GROUP + col * 4, lrow + pos * GROUP + col * 4, valid);
            } else {
                cp_async16(ks + off, kb + pos * D + col * 8, valid);
            }
            if (DO_PV) cp_async16(vs + off, vb + pos * D + col * 8, valid);
        }
    };

    const int ntiles = end > begin ? (end - begin + TILE - 1) / TILE : 0;
    // L2_PREFETCH, contiguous keys: this thread's lines of tile tt's rows asked of L2.
    auto prefetch_tile = [&](int tt) {
        if (L2_PREFETCH == 0 || INDEXED || PAGE_LIST || tt >= ntiles) return;
        const int j0 = begin + tt * TILE;
        #pragma unroll
        for (int i = 0; i < LOADS; ++i) {
            const int r = tid / CHUNKS + i * ROWS_PER_PASS, col = tid % CHUNKS;
            if (j0 + r < end && col % 8 == 0) prefetch_line(j0 + r, col);
        }
    };
    #pragma unroll
    for (int st = 0; st < STAGES - 1; ++st) {
        if (st < ntiles) { if (INDEXED || PAGE_LIST) fetch_idx(begin + st * TILE); load_tile(begin + st * TILE, st); }
        cp_async_commit();
    }
    if (INDEXED || PAGE_LIST) fetch_idx(begin + (STAGES - 1) * TILE);
    if (GATHER_AHEAD) read_positions(begin + STAGES * TILE, qidx);
    __syncthreads();                          // query rows visible

    // Query fragments (A operand), kept in registers.
    unsigned qa[KSTEPS][4];
    #pragma unroll
    for (int ks_ = 0; ks_ < KSTEPS && !LOGITS_IN; ++ks_) {
        int mi = lane >> 3;
        int row = (lane & 7) + (mi & 1) * 8, col = ks_ * 16 + (mi >> 1) * 8;
        ldmatrix_x4(qa[ks_], qs + row * ROW_STRIDE + col * 2);
    }

    float o[NT][4];
    #pragma unroll
    for (int j = 0; j < NT; ++j) { o[j][0] = o[j][1] = o[j][2] = o[j][3] = 0.f; }
    float m_run[2] = {NEG_INF, NEG_INF}, l_run[2] = {0.f, 0.f};
    const int r0 = lane >> 2, cq = (lane & 3) * 2;   // fragment row and column pair

    for (int t = 0; t < ntiles; ++t) {
        const int stage = t % STAGES;
        cp_async_wait<STAGES - 2>();
        __syncthreads();
        {
            const int nt = t + STAGES - 1;
            if (nt < ntiles) {
                load_tile(begin + nt * TILE, nt % STAGES);
                if (GATHER_AHEAD) advance_idx(begin + (nt + 1) * TILE);
                else if (INDEXED || PAGE_LIST) fetch_idx(begin + (nt + 1) * TILE);
                prefetch_tile(nt + 1);
            }
            cp_async_commit();
        }
        const int wkey = begin + t * TILE + warp * KPW;        // this warp's first key
        const unsigned char* kt = ks + (size_t)(stage * TILE + warp * KPW) * ROW_STRIDE;

        // S = Q K^T over the warp's 16 keys: two n-tiles of 8 keys (LOGITS_IN: read back).
        float s[2][4] = {{0.f, 0.f, 0.f, 0.f}, {0.f, 0.f, 0.f, 0.f}};
        if (LOGITS_IN) {
            #pragma unroll
            for (int nt = 0; nt < 2; ++nt) {
                #pragma unroll
                for (int e = 0; e < 4; ++e) {
                    const int kk = warp * KPW + nt * 8 + cq + (e & 1), row = r0 + (e >> 1) * 8;
                    s[nt][e] = row < GROUP ? ls[(stage * TILE + kk) * GROUP + row] : NEG_INF;
                }
            }
        }
        #pragma unroll
        for (int ks_ = 0; ks_ < KSTEPS && !LOGITS_IN; ++ks_) {
            unsigned bk[4];
            int mi = lane >> 3;
            int key = (lane & 7) + (mi >> 1) * 8, col = ks_ * 16 + (mi & 1) * 8;
            ldmatrix_x4(bk, kt + key * ROW_STRIDE + col * 2);
            mma16816(s[0], qa[ks_], bk[0], bk[1]);
            mma16816(s[1], qa[ks_], bk[2], bk[3]);
        }
        // Scale, mask, logits.
        const int wpage = PAGE_LIST ? tilePages[4 * stage + warp] : 0;
        const unsigned wbits = PAGE_LIST ? tileBits[4 * stage + warp] : 0u;
        #pragma unroll
        for (int nt = 0; nt < 2; ++nt) {
            #pragma unroll
            for (int e = 0; e < 4; ++e) {
                int j = wkey + nt * 8 + cq + (e & 1);
                bool keep = j < end;
                if (PAGE_LIST) keep = keep && wpage * 16 + (j & 15) < n && ((wbits >> (r0 + (e >> 1) * 8)) & 1u);
                s[nt][e] = keep ? s[nt][e] * scale : NEG_INF;
            }
            if (WRITE_LOGITS) {
                int j = wkey + nt * 8 + cq;
                #pragma unroll
                for (int hh = 0; hh < 2; ++hh) {
                    int row = r0 + hh * 8;
                    if (row < GROUP) {
                        float* dst = logits + (((long long)b * gridDim.y + g) * logitRowStride + j) * GROUP + row;
                        if (j < end) dst[0] = s[nt][2 * hh];
                        if (j + 1 < end) dst[GROUP] = s[nt][2 * hh + 1];
                    }
                }
            }
        }
        // Online softmax per row (rows r0 and r0 + 8), reduced over the quad.
        float p[2][4];
        #pragma unroll
        for (int hh = 0; hh < 2; ++hh) {
            float mx = fmaxf(fmaxf(s[0][2 * hh], s[0][2 * hh + 1]), fmaxf(s[1][2 * hh], s[1][2 * hh + 1]));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
            float mnew = fmaxf(m_run[hh], mx);
            float mref = mnew == NEG_INF ? 0.f : mnew;
            float alpha = __expf(m_run[hh] - mref);
            float sum = 0.f;
            #pragma unroll
            for (int nt = 0; nt < 2; ++nt) {
                p[nt][2 * hh] = __expf(s[nt][2 * hh] - mref);
                p[nt][2 * hh + 1] = __expf(s[nt][2 * hh + 1] - mref);
                sum += p[nt][2 * hh] + p[nt][2 * hh + 1];
            }
            sum += __shfl_xor_sync(0xffffffffu, sum, 1);
            sum += __shfl_xor_sync(0xffffffffu, sum, 2);
            l_run[hh] = l_run[hh] * alpha + sum;
            m_run[hh] = mnew;
            if (DO_PV) {
                #pragma unroll
                for (int j = 0; j < NT; ++j) { o[j][2 * hh] *= alpha; o[j][2 * hh + 1] *= alpha; }
            }
        }
        if (DO_PV) {
            unsigned pa[4] = {pack2(p[0][0], p[0][1]), pack2(p[0][2], p[0][3]), pack2(p[1][0], p[1][1]), pack2(p[1][2], p[1][3])};
            const unsigned char* vt = vs + (size_t)(stage * TILE + warp * KPW) * ROW_STRIDE;
            #pragma unroll
            for (int j = 0; j < NT; j += 2) {
                unsigned bv[4];
                int mi = lane >> 3;
                int key = (lane & 7) + (mi & 1) * 8, col = j * 8 + (mi >> 1) * 8;
                ldmatrix_x4_trans(bv, vt + key * ROW_STRIDE + col * 2);
                mma16816(o[j], pa, bv[0], bv[1]);
                mma16816(o[j + 1], pa, bv[2], bv[3]);
            }
        }
    }
    cp_async_wait<0>();
    __syncthreads();                          // tiles no longer read: reuse shared memory

    // Merge the 4 warps' states per row.
    float* mls = reinterpret_cast<float*>(ks);                 // [WARPS][16][2]
    float* os = mls + WARPS * 16 * 2;                           // [WARPS][GROUP][D]
    if ((lane & 3) == 0) {
        #pragma unroll
        for (int hh = 0; hh < 2; ++hh) {
            mls[(warp * 16 + r0 + hh * 8) * 2] = m_run[hh];
            mls[(warp * 16 + r0 + hh * 8) * 2 + 1] = l_run[hh];
        }
    }
    if (DO_PV) {
        #pragma unroll
        for (int hh = 0; hh < 2; ++hh) {
            int row = r0 + hh * 8;
            if (row < GROUP) {
                #pragma unroll
                for (int j = 0; j < NT; ++j)
                    *reinterpret_cast<float2*>(os + ((warp * GROUP + row) * D) + j * 8 + cq) = make_float2(o[j][2 * hh], o[j][2 * hh + 1]);
            }
        }
    }
    __syncthreads();
    for (int i = tid; i < GROUP * (DO_PV ? D : 1); i += THREADS) {
        int row = DO_PV ? i / D : i, d = DO_PV ? i % D : 0;
        float M = NEG_INF;
        #pragma unroll
        for (int w = 0; w < WARPS; ++w) M = fmaxf(M, mls[(w * 16 + row) * 2]);
        float mref = M == NEG_INF ? 0.f : M;
        float acc = 0.f, l = 0.f;
        #pragma unroll
        for (int w = 0; w < WARPS; ++w) {
            float mw = mls[(w * 16 + row) * 2];
            float wt = mw == NEG_INF ? 0.f : __expf(mw - mref);
            l += wt * mls[(w * 16 + row) * 2 + 1];
            if (DO_PV) acc += wt * os[(w * GROUP + row) * D + d];
        }
        long long prow = ((long long)b * H + g * GROUP + row) * splits + split;
        if (DO_PV) partO[prow * D + d] = acc;
        if (d == 0) partML[prow] = make_float2(M, l);
    }
}

/// Quest's attention over each group's listed pages, every query head masked to its own (see
/// PAGE_LIST above): grid (S, G, B), 128 threads; shared memory of the sparse kernel plus 32 bytes a
/// stage. plist and pbits rows hold a multiple of 4 entries.
extern "C" __global__ void __launch_bounds__(THREADS) decode_page_list_split(
    const kv_t* q, const kv_t* k, const kv_t* v, long long kvBatchStride, long long kvHeadStride,
    const int* plist, const unsigned* pbits, const int* pcount, long long listStride, int minPer,
    int n, float scale, float* partO, float2* partML, int splits)
{
    grid_dependency_sync();
    decode_split<false, true, false, false, true>(q, k, v, kvBatchStride, kvHeadStride, nullptr, 0, 0, nullptr,
                                                  n, 0, scale, partO, partML, splits, nullptr, 0,
                                                  plist, pbits, pcount, listStride, minPer);
}
