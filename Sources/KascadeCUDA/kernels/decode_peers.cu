// Decode kernels of the peer methods on the GPU: Quest (Tang et al., arXiv 2406.10774), Twilight
// (Lin et al., arXiv 2502.02770) and vAttention (Desai et al., arXiv 2510.05688).
//
// Compile-time definitions (NVRTC -D): KV_BF16 (1: bf16, 0: fp16), HEAD_DIM (64 or 128), GROUP
// (query heads per KV head, 1..16).
//
// Every method marks what each query head reads in a per-(sequence, KV head) mask of 32-bit words:
// bit hh selects the key (or page) for query head g * GROUP + hh, bit 16 + hh marks it as sampled
// (vAttention). peer_attend_* then reads each marked key and value row once for the whole group
// (split over the positions, flash-decoding style) and peer_combine merges the splits.
//
// Layouts: q [B, H, D]; k, v [B, G, cap, D]; pmin, pmax [B, G, pageCap, D] (element type, exact);
// codes [B, G, tokCap, D/2] (two 4-bit codes a byte: byte j of each 16-dimension block holds
// dimension j low and j + 8 high), qscale, qzero [B, G, tokCap] fp32; page scores [B, H, rowStride];
// est [B, H, rowStride] fp32; logits [B, G, rowStride, GROUP] fp32; partO [B, H, S, D]; partML [B, H, S].

constexpr int D = HEAD_DIM;
constexpr int PAGE = 16;
constexpr int DL = D / 32;                     // dimensions per lane when a warp holds one row
constexpr unsigned FULL = 0xffffffffu;
constexpr unsigned GROUP_BITS = (1u << GROUP) - 1u;
constexpr unsigned long long GOLDEN = 0x9E3779B97F4A7C15ull;

__device__ __forceinline__ kv_t from_float(float x) {
#if KV_BF16
    return __float2bfloat16(x);
#else
    return __float2half(x);
#endif
}

/// The DL elements of a row a lane holds (dimensions lane * DL ...).
__device__ __forceinline__ void load_lane(const kv_t* row, int lane, float* x) {
    if (DL == 4) {
        uint2 u = *reinterpret_cast<const uint2*>(row + lane * 4);
        float2 a = unpack2(u.x), b = unpack2(u.y);
        x[0] = a.x; x[1] = a.y; x[2] = b.x; x[3] = b.y;
    } else {
        unsigned u = *reinterpret_cast<const unsigned*>(row + lane * 2);
        float2 a = unpack2(u);
        x[0] = a.x; x[1] = a.y;
    }
}

__device__ __forceinline__ float warp_sum(float x) {
    #pragma unroll
    for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(FULL, x, o);
    return x;
}

__device__ __forceinline__ float warp_max(float x) {
    #pragma unroll
    for (int o = 16; o > 0; o >>= 1) x = fmaxf(x, __shfl_xor_sync(FULL, x, o));
    return x;
}

__device__ __forceinline__ float warp_min(float x) {
    #pragma unroll
    for (int o = 16; o > 0; o >>= 1) x = fminf(x, __shfl_xor_sync(FULL, x, o));
    return x;
}

/// Exclusive prefix sum over a block of any warp multiple; `total` gets the block sum.
/// `warpSums` holds 33 ints of shared memory.
__device__ __forceinline__ int block_scan(int x, int* warpSums, int& total) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    int inc = x;
    #pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
        int y = __shfl_up_sync(FULL, inc, o);
        if (lane >= o) inc += y;
    }
    if (lane == 31) warpSums[warp] = inc;
    __syncthreads();
    if (warp == 0) {
        int w = lane < warps ? warpSums[lane] : 0;
        int wi = w;
        #pragma unroll
        for (int o = 1; o < 32; o <<= 1) {
            int y = __shfl_up_sync(FULL, wi, o);
            if (lane >= o) wi += y;
        }
        if (lane < warps) warpSums[lane] = wi - w;
        if (lane == 31) warpSums[32] = wi;
    }
    __syncthreads();
    int r = warpSums[warp] + inc - x;
    total = warpSums[32];
    __syncthreads();
    return r;
}

/// Block-wide reductions through `red` (32 floats of shared memory); every thread gets the result.
__device__ __forceinline__ float block_sum(float x, float* red) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    x = warp_sum(x);
    if (lane == 0) red[warp] = x;
    __syncthreads();
    float y = lane < warps ? red[lane] : 0.f;
    y = warp_sum(y);
    __syncthreads();
    return y;
}

__device__ __forceinline__ float block_max(float x, float* red) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    x = warp_max(x);
    if (lane == 0) red[warp] = x;
    __syncthreads();
    float y = lane < warps ? red[lane] : NEG_INF;
    y = warp_max(y);
    __syncthreads();
    return y;
}

// ---------------------------------------------------------------------------------------------
// Quest page bounds.

/// Element-wise min and max of pages pageFrom ..< pageFrom + gridDim.x of the first n keys:
/// grid (pages, G, B), D threads. A build uses pageFrom = 0; an append recomputes the pages its new
/// positions touch (at most 16 rows each).
extern "C" __global__ void quest_pages(const kv_t* __restrict__ k, long long kvBatchStride, long long kvHeadStride,
                                       kv_t* __restrict__ pmin, kv_t* __restrict__ pmax, long long pageCap,
                                       int n, int pageFrom)
{
    const int p = pageFrom + blockIdx.x, g = blockIdx.y, b = blockIdx.z, G = gridDim.y;
    const kv_t* kr = k + b * kvBatchStride + g * kvHeadStride;
    const long long o = (((long long)b * G + g) * pageCap + p) * D;
    const int start = p * PAGE, end = min(n, start + PAGE);
    for (int i = threadIdx.x; i < D; i += blockDim.x) {
        float lo = POS_INF, hi = NEG_INF;
        for (int r = start; r < end; ++r) {
            float x = to_float(kr[(long long)r * D + i]);
            lo = fminf(lo, x); hi = fmaxf(hi, x);
        }
        pmin[o + i] = from_float(lo);
        pmax[o + i] = from_float(hi);
    }
}

constexpr int SCORE_WARPS = 4;
constexpr int SCORE_PAGES_PER_WARP = 8;

/// Quest page scores sum_i max(q_i max_i, q_i min_i) of pages 0 ..< pages for the group's heads:
/// grid (ceil(pages / 32), G, B), 128 threads (a warp per page).
extern "C" __global__ void __launch_bounds__(128) quest_page_scores(
    const kv_t* __restrict__ q, const kv_t* __restrict__ pmin, const kv_t* __restrict__ pmax, long long pageCap,
    int pages, float* __restrict__ scores, long long scoreStride)
{
    const int g = blockIdx.y, b = blockIdx.z, G = gridDim.y, H = G * GROUP;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    float qv[GROUP][DL];
    #pragma unroll
    for (int hh = 0; hh < GROUP; ++hh) load_lane(q + ((long long)b * H + g * GROUP + hh) * D, lane, qv[hh]);
    const long long base = ((long long)b * G + g) * pageCap;
    const int first = (blockIdx.x * SCORE_WARPS + warp) * SCORE_PAGES_PER_WARP;
    for (int p = first; p < min(pages, first + SCORE_PAGES_PER_WARP); ++p) {
        float lo[DL], hi[DL];
        load_lane(pmin + (base + p) * D, lane, lo);
        load_lane(pmax + (base + p) * D, lane, hi);
        #pragma unroll
        for (int hh = 0; hh < GROUP; ++hh) {
            float s = 0.f;
            #pragma unroll
            for (int e = 0; e < DL; ++e) s += fmaxf(qv[hh][e] * hi[e], qv[hh][e] * lo[e]);
            s = warp_sum(s);
            if (lane == 0) scores[((long long)b * H + g * GROUP + hh) * scoreStride + p] = s;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Radix selection (three digits of 11, 11 and 10 bits over 32-bit keys, largest first; among keys
// equal to the threshold the lowest units first).

constexpr int SEL_THREADS = 1024;
constexpr int BINS = 2048;

/// Order-preserving key of a float: a larger key ranks ahead; NaN is 0 (last), -0 counts as +0.
__device__ __forceinline__ unsigned rank_key(float x) {
    if (x != x) return 0u;
    unsigned b = x == 0.f ? 0u : __float_as_uint(x);
    return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

/// Adds one to hist[bin] with one shared atomic per distinct bin of the warp; all lanes call it.
__device__ __forceinline__ void hist_add(int* hist, unsigned bin, bool active) {
    unsigned live = __ballot_sync(FULL, active);
    if (!active) return;
    unsigned same = __match_any_sync(live, bin);
    if ((threadIdx.x & 31) == __ffs(same) - 1) atomicAdd(&hist[bin], __popc(same));
}

/// The bin holding the need-th largest among hist[0 ..< bins] (bins <= 2 * blockDim.x), with the
/// count still needed inside it, into sel[0], sel[1].
__device__ __forceinline__ void pick_bin(const int* hist, int bins, int need, int* sel, int* warpSums) {
    const int t = threadIdx.x;
    const int hiBin = bins - 1 - 2 * t, loBin = hiBin - 1;
    const int ch = hiBin >= 0 ? hist[hiBin] : 0, cl = loBin >= 0 ? hist[loBin] : 0;
    int total;
    const int above = block_scan(ch + cl, warpSums, total);
    if (hiBin >= 0 && above < need && need <= above + ch) { sel[0] = hiBin; sel[1] = need - above; }
    else if (loBin >= 0 && above + ch < need && need <= above + ch + cl) { sel[0] = loBin; sel[1] = need - above - ch; }
    __syncthreads();
}

/// Finds the k-th largest key of units 0 ..< count (1 <= k <= valid units): `thr` and how many keys
/// equal to it belong to the top k (`takeEq`). keyOf(i, valid&) gives a unit's key.
template <class KeyOf>
__device__ void radix_threshold(const KeyOf& keyOf, int count, int k, int* h, int* warpSums, int* sel,
                                unsigned& thr, int& takeEq)
{
    const int tid = threadIdx.x;
    const int rounded = (count + blockDim.x - 1) / blockDim.x * blockDim.x;
    unsigned prefix = 0, pmask = 0;
    int need = k;
    #pragma unroll 1
    for (int pass = 0; pass < 3; ++pass) {
        const int shift = pass == 0 ? 21 : (pass == 1 ? 10 : 0);
        const int bins = pass == 2 ? 1024 : 2048;
        for (int i = tid; i < BINS; i += blockDim.x) h[i] = 0;
        __syncthreads();
        for (int i = tid; i < rounded; i += blockDim.x) {
            bool valid = false;
            unsigned key = i < count ? keyOf(i, valid) : 0u;
            bool active = i < count && valid && (key & pmask) == prefix;
            hist_add(h, (key >> shift) & (unsigned)(bins - 1), active);
        }
        __syncthreads();
        pick_bin(h, bins, need, sel, warpSums);
        prefix |= (unsigned)sel[0] << shift;
        pmask |= (unsigned)(bins - 1) << shift;
        need = sel[1];
    }
    thr = prefix;
    takeEq = need;
}

/// Calls mark(i) for each of the top-k units given the threshold: every key above it and the first
/// `takeEq` keys equal to it in unit order. Each thread scans a contiguous segment.
template <class KeyOf, class Mark>
__device__ void radix_mark(const KeyOf& keyOf, const Mark& mark, int count, unsigned thr, int takeEq, int* warpSums)
{
    const int seg = (count + blockDim.x - 1) / blockDim.x;
    const int lo = min(count, (int)threadIdx.x * seg), hi = min(count, lo + seg);
    int eq = 0;
    for (int i = lo; i < hi; ++i) { bool v = false; unsigned key = keyOf(i, v); eq += v && key == thr; }
    int tot;
    const int eqBefore = block_scan(eq, warpSums, tot);
    int eqLeft = max(0, takeEq - eqBefore);
    for (int i = lo; i < hi; ++i) {
        bool v = false;
        unsigned key = keyOf(i, v);
        if (!v) continue;
        if (key > thr) mark(i);
        else if (key == thr && eqLeft > 0) { --eqLeft; mark(i); }
    }
}

/// Top-k selection per query head into mask bits: units lo ..< lo + count of the score row
/// scores + b * sB + g * sG + hh * sHH (element u at u * elem) compete for k places; units
/// 0 ..< alwaysLo and alwaysHi ..< alwaysEnd are always marked. Marks bit hh of mask[b, g, unit].
/// grid (GROUP, G, B), 1024 threads. The mask must start cleared of this head's bit.
extern "C" __global__ void __launch_bounds__(SEL_THREADS) peer_select(
    const float* __restrict__ scores, long long sB, long long sG, long long sHH, int elem,
    int lo, int count, int k, int alwaysLo, int alwaysHi, int alwaysEnd,
    unsigned* __restrict__ mask, long long maskStride)
{
    __shared__ int h[BINS];
    __shared__ int warpSums[33];
    __shared__ int sel[2];
    const int hh = blockIdx.x, g = blockIdx.y, b = blockIdx.z, G = gridDim.y;
    const float* row = scores + b * sB + g * sG + hh * sHH;
    unsigned* mrow = mask + ((long long)b * G + g) * maskStride;
    const unsigned bit = 1u << hh;
    for (int i = threadIdx.x; i < alwaysLo; i += blockDim.x) atomicOr(&mrow[i], bit);
    for (int i = alwaysHi + threadIdx.x; i < alwaysEnd; i += blockDim.x) atomicOr(&mrow[i], bit);
    if (k <= 0 || count <= 0) return;
    if (k >= count) {
        for (int i = threadIdx.x; i < count; i += blockDim.x) atomicOr(&mrow[lo + i], bit);
        return;
    }
    auto keyOf = [&](int i, bool& valid) -> unsigned { valid = true; return rank_key(row[(long long)(lo + i) * elem]); };
    unsigned thr; int takeEq;
    radix_threshold(keyOf, count, k, h, warpSums, sel, thr, takeEq);
    radix_mark(keyOf, [&](int i) { atomicOr(&mrow[lo + i], bit); }, count, thr, takeEq, warpSums);
}

// ---------------------------------------------------------------------------------------------
// Twilight: 4-bit key copy, estimated scores on the candidates, top-p pruning.

/// Per-token asymmetric 4-bit quantisation of positions from ..< to: grid (ceil((to - from) / 4), G, B),
/// 128 threads (a warp per token). scale = (max - min) / 15, zero = min, code = round((k - min) / scale).
extern "C" __global__ void __launch_bounds__(128) twilight_quantize(
    const kv_t* __restrict__ k, long long kvBatchStride, long long kvHeadStride,
    unsigned char* __restrict__ codes, float* __restrict__ qscale, float* __restrict__ qzero, long long tokCap,
    int from, int to)
{
    const int g = blockIdx.y, b = blockIdx.z, G = gridDim.y;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int pos = from + blockIdx.x * 4 + warp;
    if (pos >= to) return;
    float x[DL];
    load_lane(k + b * kvBatchStride + g * kvHeadStride + (long long)pos * D, lane, x);
    float lo = x[0], hi = x[0];
    #pragma unroll
    for (int e = 1; e < DL; ++e) { lo = fminf(lo, x[e]); hi = fmaxf(hi, x[e]); }
    lo = warp_min(lo); hi = warp_max(hi);
    const float step = (hi - lo) / 15.f;
    const float inv = step > 0.f ? 1.f / step : 0.f;
    unsigned packed = 0;
    #pragma unroll
    for (int e = 0; e < DL; ++e) {
        float c = fminf(15.f, fmaxf(0.f, roundf(__fmul_rn(__fsub_rn(x[e], lo), inv))));
        packed |= (unsigned)c << (8 * e);
    }
    constexpr int partner = 8 / DL;                    // the lane holding dimensions + 8
    const unsigned high = __shfl_down_sync(FULL, packed, partner);
    const long long slot = ((long long)b * G + g) * tokCap + pos;
    if ((lane % (16 / DL)) < partner) {
        const unsigned bytes = packed | (high << 4);
        unsigned char* row = codes + slot * (D / 2);
        const int i0 = lane * DL;                      // first dimension of this lane
        const int at = (i0 / 16) * 8 + (i0 % 8);
        if (DL == 4) *reinterpret_cast<unsigned*>(row + at) = bytes;
        else *reinterpret_cast<unsigned short*>(row + at) = (unsigned short)bytes;
    }
    if (lane == 0) { qscale[slot] = step; qzero[slot] = lo; }
}

/// Estimated scaled scores zero * sum(q) + scale * sum_i q_i c_i of the candidate keys (those whose
/// page has the head's bit in pageMask), into est[b, h, pos], over the positions of the listed pages
/// plist[b, g, 0 ..< pcount[b, g]] (the group's candidate pages); clears keptMask[b, g, pos] there.
/// grid (ceil(listed pages * 16 / 128), G, B), 128 threads.
extern "C" __global__ void __launch_bounds__(128) twilight_estimate(
    const kv_t* __restrict__ q, const unsigned char* __restrict__ codes, const float* __restrict__ qscale,
    const float* __restrict__ qzero, long long tokCap, const unsigned* __restrict__ pageMask, long long pageMaskStride,
    int n, float scale, float* __restrict__ est, long long estStride,
    const int* __restrict__ plist, const int* __restrict__ pcount, long long listStride,
    unsigned* __restrict__ keptMask, long long keptStride)
{
    __shared__ float qs[GROUP * D];
    __shared__ float qsum[GROUP];
    const int g = blockIdx.y, b = blockIdx.z, G = gridDim.y, H = G * GROUP;
    const int tid = threadIdx.x;
    for (int i = tid; i < GROUP * D; i += blockDim.x) qs[i] = to_float(q[((long long)b * H + g * GROUP) * D + i]);
    __syncthreads();
    if (tid < GROUP) {
        float s = 0.f;
        for (int i = 0; i < D; ++i) s += qs[tid * D + i];    // in dimension order
        qsum[tid] = s;
    }
    __syncthreads();
    const int e = (blockIdx.x * blockDim.x + tid) / PAGE;
    if (e >= pcount[(long long)b * G + g]) return;
    const int pos = plist[((long long)b * G + g) * listStride + e] * PAGE + tid % PAGE;
    if (pos >= n) return;
    keptMask[((long long)b * G + g) * keptStride + pos] = 0u;
    const unsigned bits = pageMask[((long long)b * G + g) * pageMaskStride + pos / PAGE] & GROUP_BITS;
    if (!bits) return;
    const long long slot = ((long long)b * G + g) * tokCap + pos;
    const uint4* row = reinterpret_cast<const uint4*>(codes + slot * (D / 2));
    float acc[GROUP];
    #pragma unroll
    for (int hh = 0; hh < GROUP; ++hh) acc[hh] = 0.f;
    #pragma unroll
    for (int blk = 0; blk < D / 32; ++blk) {          // 16 bytes = two blocks of 16 dimensions
        uint4 u = row[blk];
        unsigned w[4] = {u.x, u.y, u.z, u.w};
        #pragma unroll
        for (int j = 0; j < 16; ++j) {
            const unsigned byte = (w[j / 4] >> (8 * (j % 4))) & 0xffu;
            const int i = blk * 32 + (j / 8) * 16 + (j % 8);   // low nibble's dimension
            const float cl = (float)(byte & 15u), ch = (float)(byte >> 4);
            #pragma unroll
            for (int hh = 0; hh < GROUP; ++hh) {
                if (bits & (1u << hh)) acc[hh] = fmaf(qs[hh * D + i], cl, fmaf(qs[hh * D + i + 8], ch, acc[hh]));
            }
        }
    }
    const float zero = qzero[slot], step = qscale[slot];
    #pragma unroll
    for (int hh = 0; hh < GROUP; ++hh) {
        if (bits & (1u << hh)) est[((long long)b * H + g * GROUP + hh) * estStride + pos] = (zero * qsum[hh] + step * acc[hh]) * scale;
    }
}

constexpr int TOPP_THREADS = 512;
constexpr int TOPP_ITERS = 24;

/// Twilight's pruning for one query head: softmax of the estimates over its candidate pages, then the
/// largest threshold theta (bisection over [0, max], 24 steps) whose weights >= theta hold topP of the
/// mass; marks bit hh of keptMask[b, g, pos] for those keys and writes their count.
/// grid (GROUP, G, B), 512 threads, dynamic shared memory capPages * 17 * 4 bytes.
extern "C" __global__ void __launch_bounds__(TOPP_THREADS) twilight_top_p(
    const float* __restrict__ est, long long estStride, const unsigned* __restrict__ pageMask, long long pageMaskStride,
    int pages, int capPages, int n, float topP, unsigned* __restrict__ keptMask, long long keptStride,
    int* __restrict__ keptCount)
{
    extern __shared__ __align__(16) unsigned char topp_smem[];
    __shared__ int warpSums[33];
    __shared__ float red[32];
    float* w = reinterpret_cast<float*>(topp_smem);                     // [capPages * 16]
    int* plist = reinterpret_cast<int*>(w + capPages * PAGE);      // [capPages]
    const int hh = blockIdx.x, g = blockIdx.y, b = blockIdx.z, G = gridDim.y, H = G * GROUP;
    const int tid = threadIdx.x, h = g * GROUP + hh;
    const unsigned bit = 1u << hh;
    const unsigned* prow = pageMask + ((long long)b * G + g) * pageMaskStride;
    int np = 0;
    for (int base = 0; base < pages; base += blockDim.x) {
        const int p = base + tid;
        const int c = (p < pages && (prow[p] & bit)) ? 1 : 0;
        int tot;
        const int at = np + block_scan(c, warpSums, tot);
        if (c && at < capPages) plist[at] = p;
        np += tot;
    }
    np = min(np, capPages);
    __syncthreads();
    const float* erow = est + ((long long)b * H + h) * estStride;
    const int cnt = np * PAGE;
    float m = NEG_INF;
    for (int j = tid; j < cnt; j += blockDim.x) {
        const int pos = plist[j / PAGE] * PAGE + j % PAGE;
        const float v = pos < n ? erow[pos] : NEG_INF;
        w[j] = v;
        m = fmaxf(m, v);
    }
    m = block_max(m, red);
    float top = 0.f, total = 0.f;
    for (int j = tid; j < cnt; j += blockDim.x) {
        const float v = w[j];
        const float x = v == NEG_INF ? -1.f : expf(v - m);         // -1: past the end, never kept
        w[j] = x;
        if (x >= 0.f) { total += x; top = fmaxf(top, x); }
    }
    total = block_sum(total, red);
    top = block_max(top, red);
    const float target = topP * total;
    auto massAtLeast = [&](float theta) {
        float s = 0.f;
        for (int j = tid; j < cnt; j += blockDim.x) { const float x = w[j]; if (x >= theta) s += x; }
        return block_sum(s, red);
    };
    float theta = top;
    if (!(massAtLeast(top) >= target)) {
        float lo = 0.f, hi = top;
        for (int it = 0; it < TOPP_ITERS; ++it) {
            const float mid = (lo + hi) / 2;
            if (massAtLeast(mid) >= target) lo = mid; else hi = mid;
        }
        theta = lo;
    }
    unsigned* krow = keptMask + ((long long)b * G + g) * keptStride;
    int kept = 0;
    for (int j = tid; j < cnt; j += blockDim.x) {
        const float x = w[j];
        if (x >= 0.f && x >= theta) {
            atomicOr(&krow[plist[j / PAGE] * PAGE + j % PAGE], bit);
            ++kept;
        }
    }
    kept = (int)block_sum((float)kept, red);
    if (tid == 0) keptCount[(long long)b * H + h] = kept;
}

// ---------------------------------------------------------------------------------------------
// vAttention: counter-based uniform sampling of the residual keys.

__device__ __forceinline__ unsigned long long mix64(unsigned long long z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/// The sampling stream of (seed, layer, query head, context length).
__device__ __forceinline__ unsigned long long vatt_stream(unsigned long long seed, long long layer, long long head, long long n) {
    unsigned long long s = mix64(seed);
    s = mix64(s ^ ((unsigned long long)layer * GOLDEN));
    s = mix64(s ^ ((unsigned long long)head * GOLDEN));
    s = mix64(s ^ ((unsigned long long)n * GOLDEN));
    return s;
}

/// A position's 32-bit sampling key: the sample of size b is the b smallest keys (ties: lower position).
__device__ __forceinline__ unsigned vatt_key(unsigned long long stream, int pos) {
    return (unsigned)(mix64(stream + (unsigned long long)(pos + 1) * GOLDEN) >> 32);
}

constexpr int PILOT = 32;

/// One query head's sample: from the deterministic set's partial results (splits 0 ..< detSplits of
/// totalSplits), the pilot (the 32 smallest keys of the residual positions, part of the final
/// sample) gives sigma and tau of numerator and denominator; b = the smallest sample meeting both
/// bounds; marks bit 16 + hh of mask[b, g, pos] for the b sampled positions and writes log(n_s / b).
/// grid (GROUP, G, B), 1024 threads.
extern "C" __global__ void __launch_bounds__(SEL_THREADS) vatt_sample(
    const float* __restrict__ logits, long long logitStride, const float* __restrict__ partO, const float2* __restrict__ partML,
    int detSplits, int totalSplits, const kv_t* __restrict__ v, long long kvBatchStride, long long kvHeadStride,
    unsigned* __restrict__ mask, long long maskStride, int n, int sinks, int windowStart,
    unsigned long long seed, int layer, double epsilon, double z, float* __restrict__ logWeight, int* __restrict__ sampleSize)
{
    __shared__ int h[BINS];
    __shared__ int warpSums[33];
    __shared__ int sel[2];
    __shared__ float red[32];
    __shared__ float accDet[D], accSmp[D];
    __shared__ int pilotPos[PILOT];
    __shared__ float pilotE[PILOT], pilotX2[PILOT];
    __shared__ int pilotCount;
    const int hh = blockIdx.x, g = blockIdx.y, b = blockIdx.z, G = gridDim.y, H = G * GROUP;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int hq = g * GROUP + hh;
    const long long row = (long long)b * H + hq;
    const unsigned bit = 1u << hh;
    unsigned* mrow = mask + ((long long)b * G + g) * maskStride;
    const kv_t* vb = v + b * kvBatchStride + g * kvHeadStride;
    const float* lrow = logits + ((long long)b * G + g) * logitStride * GROUP + hh;

    // Deterministic part: merge the splits (max, sum of exp, unnormalised output).
    float mD = NEG_INF;
    for (int s = 0; s < detSplits; ++s) mD = fmaxf(mD, partML[row * totalSplits + s].x);
    float lD = 0.f;
    for (int s = 0; s < detSplits; ++s) { float2 p = partML[row * totalSplits + s]; if (p.x != NEG_INF) lD += __expf(p.x - mD) * p.y; }
    for (int d = tid; d < D; d += blockDim.x) {
        float o = 0.f;
        for (int s = 0; s < detSplits; ++s) {
            float2 p = partML[row * totalSplits + s];
            if (p.x != NEG_INF) o += __expf(p.x - mD) * partO[(row * totalSplits + s) * D + d];
        }
        accDet[d] = o;
    }

    // Residual positions: the middle ones outside the deterministic set.
    const int middle = max(0, windowStart - sinks);
    const unsigned long long stream = vatt_stream(seed, layer, hq, n);
    auto keyOf = [&](int i, bool& valid) -> unsigned {
        const int pos = sinks + i;
        valid = !(mrow[pos] & bit);
        return ~vatt_key(stream, pos);               // largest of ~key = smallest key
    };
    int nr = 0;
    for (int i = tid; i < middle; i += blockDim.x) nr += !(mrow[sinks + i] & bit);
    nr = (int)block_sum((float)nr, red);
    const int pilot = min(nr, PILOT);
    if (tid == 0) pilotCount = 0;
    __syncthreads();
    unsigned thr = 0; int takeEq = 0;
    if (pilot > 0) {
        radix_threshold(keyOf, middle, pilot, h, warpSums, sel, thr, takeEq);
        radix_mark(keyOf, [&](int i) { int at = atomicAdd(&pilotCount, 1); if (at < PILOT) pilotPos[at] = sinks + i; },
                   middle, thr, takeEq, warpSums);
    }
    __syncthreads();
    if (tid == 0) {                                   // position order: a deterministic sum order
        for (int i = 1; i < pilot; ++i) {
            const int x = pilotPos[i];
            int j = i - 1;
            while (j >= 0 && pilotPos[j] > x) { pilotPos[j + 1] = pilotPos[j]; --j; }
            pilotPos[j + 1] = x;
        }
    }
    __syncthreads();
    // Pilot scores against a common offset m.
    float sp = tid < pilot ? lrow[(long long)pilotPos[tid] * GROUP] : NEG_INF;
    const float m = fmaxf(mD, block_max(sp, red));
    if (tid < pilot) pilotE[tid] = expf(sp - m);
    const float rD = mD == NEG_INF ? 0.f : expf(mD - m);
    __syncthreads();
    for (int d = tid; d < D; d += blockDim.x) {
        accDet[d] *= rD;
        float o = 0.f;
        for (int i = 0; i < pilot; ++i) o += pilotE[i] * to_float(vb[(long long)pilotPos[i] * D + d]);
        accSmp[d] = o;
    }
    if (warp < pilot) {
        float x[DL];
        load_lane(vb + (long long)pilotPos[warp] * D, lane, x);
        float s = 0.f;
        #pragma unroll
        for (int e = 0; e < DL; ++e) s += x[e] * x[e];
        s = warp_sum(s);
        if (lane == 0) pilotX2[warp] = s;
    }
    __syncthreads();

    __shared__ int bShared;
    if (tid == 0) {
        int bsz = pilot;
        if (nr > pilot) {
            const double bp = pilot;
            double denDet = (double)(lD * rD), denSmp = 0, sumE2 = 0, sumX2 = 0;
            for (int i = 0; i < pilot; ++i) {
                const double e = pilotE[i];
                denSmp += e;
                sumE2 += e * e;
                sumX2 += e * e * pilotX2[i];
            }
            double sampleNorm2 = 0, estimateNorm2 = 0;
            for (int d = 0; d < D; ++d) {
                const double a = accSmp[d];
                sampleNorm2 += a * a;
                const double e = (double)accDet[d] + (double)nr * a / bp;
                estimateNorm2 += e * e;
            }
            const double varD = fmax(0.0, (sumE2 - denSmp * denSmp / bp) / (bp - 1));
            const double varN = fmax(0.0, (sumX2 - sampleNorm2 / bp) / (bp - 1));
            const double tauD = epsilon * (denDet + (double)nr * denSmp / bp);
            const double tauN = epsilon * sqrt(estimateNorm2);
            auto required = [&](double sigma, double tau) -> int {
                if (!(sigma > 0)) return 0;
                if (!(tau > 0)) return nr;
                const double x = z * (double)nr * sigma / tau;
                const double bb = x * x;
                return bb >= (double)nr ? nr : (int)ceil(bb);
            };
            bsz = min(nr, max(pilot, max(required(sqrt(varD), tauD), required(sqrt(varN), tauN))));
        }
        bShared = bsz;
        logWeight[row] = bsz > 0 ? logf((float)nr / (float)bsz) : 0.f;
        sampleSize[row] = bsz;
    }
    __syncthreads();
    const int bsz = bShared;
    const unsigned sbit = 1u << (16 + hh);
    if (bsz > pilot) {
        radix_threshold(keyOf, middle, bsz, h, warpSums, sel, thr, takeEq);
        radix_mark(keyOf, [&](int i) { atomicOr(&mrow[sinks + i], sbit); }, middle, thr, takeEq, warpSums);
    } else if (tid < pilot) {
        atomicOr(&mrow[pilotPos[tid]], sbit);
    }
}

// ---------------------------------------------------------------------------------------------
// Attention over the marked keys of each KV head (all GROUP heads of the group in one block).

constexpr int AT_THREADS = 128;
constexpr int AT_WARPS = AT_THREADS / 32;
constexpr int TILE = 32;
constexpr int STAGES = 3;
constexpr int SEG = AT_THREADS * 16;            // positions compacted at a time (16 a thread)
constexpr int ROW_BYTES = D * 2;
constexpr int ROW_STRIDE = ROW_BYTES + 16;
constexpr int CHUNKS = ROW_BYTES / 16;
constexpr int HEAD_SETS = AT_THREADS / TILE;
constexpr int HEADS_PER_THREAD = (GROUP + HEAD_SETS - 1) / HEAD_SETS;
constexpr int HEADS_PER_WARP = (GROUP + AT_WARPS - 1) / AT_WARPS;
constexpr int QUADS = GROUP * D / 4;
constexpr int QUADS_PER_THREAD = (QUADS + AT_THREADS - 1) / AT_THREADS;

/// One split of attention over the keys whose mask word has a group bit (after >> shift); PAGED: one
/// word per page of 16 positions, else one per position. The work comes in units of 16 positions:
/// LIST: units are the pages plist[b, g, 0 ..< pcount[b, g]] (ascending), dealt out evenly to the first
/// min(gridDim.x, ceil(count / minPer)) splits (the others write empty partials); else split s covers
/// positions s * chunk ..< +chunk (chunk a multiple of 16).
/// With `bias`, bias[b, h] is added to every score (vAttention's log(n_s / b) on sampled keys).
template <bool PAGED, bool LIST>
__device__ __forceinline__ void peer_attend(
    const kv_t* __restrict__ q, const kv_t* __restrict__ k, const kv_t* __restrict__ v,
    long long kvBatchStride, long long kvHeadStride, const unsigned* __restrict__ mask, long long maskStride,
    int shift, const float* __restrict__ bias, int n, int chunk, float scale,
    float* __restrict__ partO, float2* __restrict__ partML, int splitOffset, int totalSplits,
    const int* __restrict__ plist, const int* __restrict__ pcount, long long listStride, int minPer)
{
    extern __shared__ __align__(16) unsigned char smem[];
    float* qs = reinterpret_cast<float*>(smem);                  // [GROUP][D]
    float* ps = qs + GROUP * D;                                    // [GROUP][TILE]
    float* alphas = ps + GROUP * TILE;                             // [16]
    float* biases = alphas + 16;                                   // [16]
    int* lpos = reinterpret_cast<int*>(biases + 16);               // [SEG]
    unsigned* lbits = reinterpret_cast<unsigned*>(lpos + SEG);     // [SEG]
    int* warpSums = reinterpret_cast<int*>(lbits + SEG);           // [36]
    unsigned char* ks = reinterpret_cast<unsigned char*>(warpSums + 36);
    ks = reinterpret_cast<unsigned char*>((reinterpret_cast<size_t>(ks) + 15) & ~size_t(15));
    unsigned char* vs = ks + STAGES * TILE * ROW_STRIDE;

    const int split = blockIdx.x, g = blockIdx.y, b = blockIdx.z, G = gridDim.y;
    const int H = G * GROUP;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    int uBegin, uEnd;
    const int* units = nullptr;
    if (LIST) {
        const int count = pcount[(long long)b * G + g];
        const int used = max(1, min((int)gridDim.x, (count + minPer - 1) / minPer));
        const int per = (count + used - 1) / used;
        uBegin = min(count, split * per);
        uEnd = min(count, uBegin + per);
        units = plist + ((long long)b * G + g) * listStride;
    } else {
        uBegin = split * chunk / PAGE;
        uEnd = (min(n, split * chunk + chunk) + PAGE - 1) / PAGE;
    }

    for (int i = tid; i < GROUP * D; i += AT_THREADS)
        qs[i] = to_float(q[((long long)b * H + g * GROUP) * D + i]) * scale;
    if (tid < GROUP) biases[tid] = bias ? bias[(long long)b * H + g * GROUP + tid] : 0.f;
    const kv_t* kb = k + b * kvBatchStride + g * kvHeadStride;
    const kv_t* vb = v + b * kvBatchStride + g * kvHeadStride;
    const unsigned* mrow = mask + ((long long)b * G + g) * maskStride;

    float m_run[HEADS_PER_WARP], l_run[HEADS_PER_WARP];
    #pragma unroll
    for (int i = 0; i < HEADS_PER_WARP; ++i) { m_run[i] = NEG_INF; l_run[i] = 0.f; }
    float acc[QUADS_PER_THREAD][4];
    #pragma unroll
    for (int i = 0; i < QUADS_PER_THREAD; ++i) { acc[i][0] = acc[i][1] = acc[i][2] = acc[i][3] = 0.f; }

    for (int u0 = uBegin; u0 < uEnd; u0 += AT_THREADS) {
        // Compact this thread's unit (16 positions) into the list.
        const int ui = u0 + tid;
        const bool live = ui < uEnd;
        const int t0 = live ? (LIST ? units[ui] : ui) * PAGE : n;
        unsigned words[16];
        int cnt = 0;
        if (PAGED) {
            const unsigned w = t0 < n ? (mrow[t0 / PAGE] >> shift) & GROUP_BITS : 0u;
            #pragma unroll
            for (int j = 0; j < 16; ++j) { words[j] = (t0 + j < n) ? w : 0u; cnt += words[j] != 0u; }
        } else {
            #pragma unroll
            for (int j = 0; j < 16; ++j) {
                words[j] = t0 + j < n ? (mrow[t0 + j] >> shift) & GROUP_BITS : 0u;
                cnt += words[j] != 0u;
            }
        }
        int total;
        int at = block_scan(cnt, warpSums, total);
        #pragma unroll
        for (int j = 0; j < 16; ++j) {
            if (words[j]) { lpos[at] = t0 + j; lbits[at] = words[j]; ++at; }
        }
        __syncthreads();

        auto load_tile = [&](int t, int stage) {
            #pragma unroll
            for (int c = tid; c < TILE * CHUNKS; c += AT_THREADS) {
                const int r = c / CHUNKS, col = c % CHUNKS;
                const int j = t * TILE + r;
                const bool valid = j < total;
                const long long pos = valid ? (long long)lpos[j] : 0;
                const size_t off = (size_t)(stage * TILE + r) * ROW_STRIDE + col * 16;
                cp_async16(ks + off, kb + pos * D + col * 8, valid);
                cp_async16(vs + off, vb + pos * D + col * 8, valid);
            }
        };
        const int ntiles = (total + TILE - 1) / TILE;
        #pragma unroll
        for (int st = 0; st < STAGES - 1; ++st) {
            if (st < ntiles) load_tile(st, st);
            cp_async_commit();
        }
        for (int t = 0; t < ntiles; ++t) {
            const int stage = t % STAGES;
            cp_async_wait<STAGES - 2>();
            __syncthreads();
            {
                const int nt = t + STAGES - 1;
                if (nt < ntiles) load_tile(nt, nt % STAGES);
                cp_async_commit();
            }
            // Scores: thread -> key r, heads hs, hs + HEAD_SETS, ...
            {
                const int r = tid % TILE, hs = tid / TILE;
                const int j = t * TILE + r;
                const unsigned bits = j < total ? lbits[j] : 0u;
                const unsigned char* krow = ks + (size_t)(stage * TILE + r) * ROW_STRIDE;
                float s[HEADS_PER_THREAD][2];
                #pragma unroll
                for (int i = 0; i < HEADS_PER_THREAD; ++i) { s[i][0] = 0.f; s[i][1] = 0.f; }
                #pragma unroll 4
                for (int col = 0; col < CHUNKS; ++col) {
                    uint4 u = *reinterpret_cast<const uint4*>(krow + col * 16);
                    float2 k0 = unpack2(u.x), k1 = unpack2(u.y), k2 = unpack2(u.z), k3 = unpack2(u.w);
                    #pragma unroll
                    for (int i = 0; i < HEADS_PER_THREAD; ++i) {
                        const int hd = hs + i * HEAD_SETS;
                        if (hd < GROUP) {
                            const float4* qp = reinterpret_cast<const float4*>(qs + hd * D + col * 8);
                            float4 a = qp[0], c = qp[1];
                            s[i][0] = fmaf(a.x, k0.x, s[i][0]); s[i][1] = fmaf(a.y, k0.y, s[i][1]);
                            s[i][0] = fmaf(a.z, k1.x, s[i][0]); s[i][1] = fmaf(a.w, k1.y, s[i][1]);
                            s[i][0] = fmaf(c.x, k2.x, s[i][0]); s[i][1] = fmaf(c.y, k2.y, s[i][1]);
                            s[i][0] = fmaf(c.z, k3.x, s[i][0]); s[i][1] = fmaf(c.w, k3.y, s[i][1]);
                        }
                    }
                }
                #pragma unroll
                for (int i = 0; i < HEADS_PER_THREAD; ++i) {
                    const int hd = hs + i * HEAD_SETS;
                    if (hd < GROUP) ps[hd * TILE + r] = (bits >> hd) & 1u ? s[i][0] + s[i][1] + biases[hd] : NEG_INF;
                }
            }
            __syncthreads();
            // Online softmax: warp w owns heads w, w + AT_WARPS, ...
            #pragma unroll
            for (int i = 0; i < HEADS_PER_WARP; ++i) {
                const int hd = warp + i * AT_WARPS;
                if (hd < GROUP) {
                    const float x = ps[hd * TILE + lane];
                    const float mx = warp_max(x);
                    const float mnew = fmaxf(m_run[i], mx);
                    const float alpha = mnew == NEG_INF ? 1.f : __expf(m_run[i] - mnew);
                    const float pe = x == NEG_INF ? 0.f : __expf(x - mnew);
                    ps[hd * TILE + lane] = pe;
                    const float sum = warp_sum(pe);
                    l_run[i] = l_run[i] * alpha + sum;
                    m_run[i] = mnew;
                    if (lane == 0) alphas[hd] = alpha;
                }
            }
            __syncthreads();
            #pragma unroll
            for (int i = 0; i < QUADS_PER_THREAD; ++i) {
                const int c = tid + i * AT_THREADS;
                if (c < QUADS) {
                    const int hd = c / (D / 4), d0 = (c % (D / 4)) * 4;
                    const float al = alphas[hd];
                    float a0 = acc[i][0] * al, a1 = acc[i][1] * al, a2 = acc[i][2] * al, a3 = acc[i][3] * al;
                    float b0 = 0.f, b1 = 0.f, b2 = 0.f, b3 = 0.f;
                    const float* ph = ps + hd * TILE;
                    const unsigned char* vcol = vs + (size_t)(stage * TILE) * ROW_STRIDE + d0 * 2;
                    #pragma unroll 4
                    for (int r = 0; r < TILE; r += 2) {
                        uint2 u = *reinterpret_cast<const uint2*>(vcol + (size_t)r * ROW_STRIDE);
                        uint2 w = *reinterpret_cast<const uint2*>(vcol + (size_t)(r + 1) * ROW_STRIDE);
                        float2 pp = *reinterpret_cast<const float2*>(ph + r);
                        float2 x = unpack2(u.x), y = unpack2(u.y), zz = unpack2(w.x), tt = unpack2(w.y);
                        a0 = fmaf(pp.x, x.x, a0); a1 = fmaf(pp.x, x.y, a1); a2 = fmaf(pp.x, y.x, a2); a3 = fmaf(pp.x, y.y, a3);
                        b0 = fmaf(pp.y, zz.x, b0); b1 = fmaf(pp.y, zz.y, b1); b2 = fmaf(pp.y, tt.x, b2); b3 = fmaf(pp.y, tt.y, b3);
                    }
                    acc[i][0] = a0 + b0; acc[i][1] = a1 + b1; acc[i][2] = a2 + b2; acc[i][3] = a3 + b3;
                }
            }
        }
        cp_async_wait<0>();
        __syncthreads();                          // the list and the tiles are free for the next segment
    }

    #pragma unroll
    for (int i = 0; i < QUADS_PER_THREAD; ++i) {
        const int c = tid + i * AT_THREADS;
        if (c < QUADS) {
            const int hd = c / (D / 4), d0 = (c % (D / 4)) * 4;
            float4* dst = reinterpret_cast<float4*>(
                partO + (((long long)b * H + g * GROUP + hd) * totalSplits + splitOffset + split) * D + d0);
            *dst = make_float4(acc[i][0], acc[i][1], acc[i][2], acc[i][3]);
        }
    }
    #pragma unroll
    for (int i = 0; i < HEADS_PER_WARP; ++i) {
        const int hd = warp + i * AT_WARPS;
        if (hd < GROUP && lane == 0)
            partML[((long long)b * H + g * GROUP + hd) * totalSplits + splitOffset + split] = make_float2(m_run[i], l_run[i]);
    }
}

/// Attention over marked pages (position splits): grid (S, G, B), 128 threads.
extern "C" __global__ void __launch_bounds__(AT_THREADS) peer_attend_pages(
    const kv_t* q, const kv_t* k, const kv_t* v, long long kvBatchStride, long long kvHeadStride,
    const unsigned* mask, long long maskStride, int shift, const float* bias, int n, int chunk, float scale,
    float* partO, float2* partML, int splitOffset, int totalSplits)
{
    peer_attend<true, false>(q, k, v, kvBatchStride, kvHeadStride, mask, maskStride, shift, bias, n, chunk, scale,
                             partO, partML, splitOffset, totalSplits, nullptr, nullptr, 0, 1);
}

/// Attention over marked positions (vAttention; position splits): grid (S, G, B), 128 threads.
extern "C" __global__ void __launch_bounds__(AT_THREADS) peer_attend_tokens(
    const kv_t* q, const kv_t* k, const kv_t* v, long long kvBatchStride, long long kvHeadStride,
    const unsigned* mask, long long maskStride, int shift, const float* bias, int n, int chunk, float scale,
    float* partO, float2* partML, int splitOffset, int totalSplits)
{
    peer_attend<false, false>(q, k, v, kvBatchStride, kvHeadStride, mask, maskStride, shift, bias, n, chunk, scale,
                              partO, partML, splitOffset, totalSplits, nullptr, nullptr, 0, 1);
}

/// Attention over the listed pages with the page mask's bits (Quest): grid (S, G, B), 128 threads.
extern "C" __global__ void __launch_bounds__(AT_THREADS) peer_attend_page_list(
    const kv_t* q, const kv_t* k, const kv_t* v, long long kvBatchStride, long long kvHeadStride,
    const unsigned* mask, long long maskStride, int n, float scale, float* partO, float2* partML, int totalSplits,
    const int* plist, const int* pcount, long long listStride, int minPer)
{
    peer_attend<true, true>(q, k, v, kvBatchStride, kvHeadStride, mask, maskStride, 0, nullptr, n, 0, scale,
                            partO, partML, 0, totalSplits, plist, pcount, listStride, minPer);
}

/// Attention over the positions of the listed pages with per-position bits (Twilight's kept keys):
/// grid (S, G, B), 128 threads.
extern "C" __global__ void __launch_bounds__(AT_THREADS) peer_attend_token_list(
    const kv_t* q, const kv_t* k, const kv_t* v, long long kvBatchStride, long long kvHeadStride,
    const unsigned* mask, long long maskStride, int n, float scale, float* partO, float2* partML, int totalSplits,
    const int* plist, const int* pcount, long long listStride, int minPer)
{
    peer_attend<false, true>(q, k, v, kvBatchStride, kvHeadStride, mask, maskStride, 0, nullptr, n, 0, scale,
                             partO, partML, 0, totalSplits, plist, pcount, listStride, minPer);
}

/// The pages of each (sequence, KV head) that any head of the group selected, ascending, into
/// plist[b, g, ...] and their count into pcount[b, g]: grid (G, B), 1024 threads.
extern "C" __global__ void __launch_bounds__(SEL_THREADS) peer_compact_pages(
    const unsigned* __restrict__ mask, long long maskStride, int pages, int* __restrict__ plist, long long listStride,
    int* __restrict__ pcount)
{
    __shared__ int warpSums[33];
    const int g = blockIdx.x, b = blockIdx.y, G = gridDim.x;
    const long long row = (long long)b * G + g;
    const unsigned* mrow = mask + row * maskStride;
    int* lrow = plist + row * listStride;
    int np = 0;
    for (int base = 0; base < pages; base += blockDim.x) {
        const int p = base + threadIdx.x;
        const int c = (p < pages && (mrow[p] & GROUP_BITS)) ? 1 : 0;
        int tot;
        const int at = np + block_scan(c, warpSums, tot);
        if (c) lrow[at] = p;
        np += tot;
    }
    if (threadIdx.x == 0) pcount[row] = np;
}

constexpr int MAX_SPLITS = 2048;

/// Merges the splits of each (sequence, query head): grid (H, B), min(D, 128) threads; out [B, H, D].
extern "C" __global__ void peer_combine(const float* partO, const float2* partML, int splits, float* out)
{
    __shared__ float wts[MAX_SPLITS];
    __shared__ float total;
    const int h = blockIdx.x, b = blockIdx.y, H = gridDim.x;
    const long long row = (long long)b * H + h;
    const float2* ml = partML + row * splits;
    float mx = NEG_INF;
    for (int s = 0; s < splits; ++s) mx = fmaxf(mx, ml[s].x);
    for (int s = threadIdx.x; s < splits; s += blockDim.x) {
        float2 p = ml[s];
        wts[s] = p.x == NEG_INF ? 0.f : __expf(p.x - mx);
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        float l = 0.f;
        for (int s = 0; s < splits; ++s) l += wts[s] * ml[s].y;
        total = l;
    }
    __syncthreads();
    const float inv = total > 0.f ? 1.f / total : 0.f;
    for (int d = threadIdx.x; d < D; d += blockDim.x) {
        float o = 0.f;
        for (int s = 0; s < splits; ++s) o += wts[s] * partO[(row * splits + s) * D + d];
        out[row * D + d] = o * inv;
    }
}

// ---------------------------------------------------------------------------------------------
// Peaked benchmark inputs: a few heavy keys per (sequence, KV head) aligned with a direction the
// group's queries share.

/// +1 or -1: dimension i of the shared direction of row bg (= b * G + g).
__device__ __forceinline__ float peak_dir(unsigned long long seed, long long bg, int i) {
    return (mix64(seed ^ ((unsigned long long)(bg * D + i) + 1) * GOLDEN) >> 63) ? 1.f : -1.f;
}

/// Adds c * w * dir(bg) to the heavy keys of rows 0 ..< rows of n positions each (k [rows, n, D], row r
/// belonging to (b, g) = r % bgCount): positions 0 ..< 4 (sinks) and n - 16 ..< n (recent) with w = 1, and
/// aligned runs of 8 positions chosen with probability `rate` (w uniform in [0.5, 1)).
/// Grid-stride over rows * n positions, a thread per position.
extern "C" __global__ void peaked_keys(kv_t* __restrict__ k, long long rows, int n, long long bgCount,
                                       unsigned long long seed, float rate, float c)
{
    const long long total = rows * n;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < total; t += (long long)gridDim.x * blockDim.x) {
        const long long r = t / n;
        const int pos = (int)(t % n);
        float w = 0.f;
        if (pos < 4 || pos >= n - 16) w = 1.f;
        else {
            const unsigned long long x = mix64((seed ^ 0x5bd1e995ull) + ((unsigned long long)(r * 1048576 + pos / 8) + 1) * GOLDEN);
            if ((float)(x >> 40) * (1.0f / 16777216.0f) < rate) w = 0.5f + 0.5f * (float)((x >> 8) & 0xffffu) * (1.0f / 65536.0f);
        }
        if (w == 0.f) continue;
        kv_t* row = k + t * D;
        const long long bg = r % bgCount;
        for (int i = 0; i < D; ++i) row[i] = from_float(to_float(row[i]) + c * w * peak_dir(seed, bg, i));
    }
}

/// Queries q [B, G * GROUP, D]: beta * (dir(b * G + g) + sigma * uniform(-1, 1)) for query head h of KV head
/// g = h / GROUP. Grid-stride over B * H * D elements.
extern "C" __global__ void peaked_queries(kv_t* __restrict__ q, int batch, int G, unsigned long long seed,
                                          float beta, float sigma)
{
    const int H = G * GROUP;
    const long long total = (long long)batch * H * D;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < total; t += (long long)gridDim.x * blockDim.x) {
        const int i = (int)(t % D);
        const long long bh = t / D;
        const int h = (int)(bh % H);
        const long long b = bh / H;
        const unsigned long long x = mix64((seed ^ 0x2545f491ull) + ((unsigned long long)t + 1) * GOLDEN);
        const float noise = (float)(x >> 40) * (1.0f / 16777216.0f) * 2.f - 1.f;
        q[t] = from_float(beta * (peak_dir(seed, b * G + h / GROUP, i) + sigma * noise));
    }
}
