// Twilight and vAttention decode kernels (Lin et al., arXiv 2502.02770; Desai et al., arXiv
// 2510.05688). Compiled after common.cuh and decode_peers.cu (one NVRTC unit, see KernelSource),
// whose layouts, constants, reductions and radix selection they use.

// ---------------------------------------------------------------------------------------------
// Twilight: 4-bit key copy, estimated scores on the candidates, top-p pruning.

/// Per-token asymmetric 4-bit quantisation of positions from ..< to: grid (ceil((to - from) / 4), G, B),
/// 128 threads (a warp per token). scale = (max - min) / 15, zero = min, code = round((k - min) / scale).
extern "C" __global__ void __launch_bounds__(128) twilight_quantize(
    const kv_t* __restrict__ k, long long kvBatchStride, long long kvHeadStride,
    unsigned char* __restrict__ codes, float* __restrict__ qscale, float* __restrict__ qzero, long long tokCap,
    int from, int to)
{
    grid_dependency_sync();
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

constexpr int EST_THREADS = 256;
constexpr int EST_TOKENS = 4;                 // listed positions per thread

/// The arguments of both estimate kernels.
#define TWILIGHT_ESTIMATE_ARGS \
    const kv_t* __restrict__ q, const unsigned char* __restrict__ codes, const float* __restrict__ qscale, \
    const float* __restrict__ qzero, long long tokCap, const unsigned* __restrict__ pageMask, long long pageMaskStride, \
    int n, float scale, float* __restrict__ est, long long estStride, \
    const int* __restrict__ plist, const int* __restrict__ pcount, long long listStride, \
    unsigned* __restrict__ keptMask, long long keptStride

/// The group's q rows (qg: GROUP x D) into qs as floats and their sums, in dimension order, into
/// qsum; every thread of the block calls it (two barriers).
__device__ __forceinline__ void est_load_q(const kv_t* __restrict__ qg, float* qs, float* qsum) {
    for (int i = threadIdx.x; i < GROUP * D; i += EST_THREADS) qs[i] = to_float(qg[i]);
    __syncthreads();
    if (threadIdx.x < GROUP) {
        float sum = 0.f;
        for (int i = 0; i < D; ++i) sum += qs[threadIdx.x * D + i];
        qsum[threadIdx.x] = sum;
    }
    __syncthreads();
}

/// Estimated scaled scores zero * sum(q) + scale * sum_i q_i c_i of the candidate keys (those whose
/// page has the head's bit in pageMask), into est[b, h, pos], over the positions of the listed pages
/// plist[b, g, 0 ..< pcount[b, g]] (the group's candidate pages); clears keptMask[b, g, pos] there.
/// On CUDA cores (twilight_estimate on tensor cores has the same arguments, grid and results up to the
/// order of the sums): grid (ceil(listed pages * 16 / (EST_THREADS * EST_TOKENS)), G, B), EST_THREADS
/// threads: a block loads q and its sums once; each thread scores EST_TOKENS positions together (first
/// + t * EST_THREADS + tid), so each q value read from shared memory serves all of them. A nibble
/// becomes a float as the low bits of 2^23 minus 2^23 (exact, no int-to-float conversion). Each
/// position's products are summed in dimension order, for every head of the group (branch-free), and
/// stored for the heads whose bit is set.
extern "C" __global__ void __launch_bounds__(EST_THREADS) twilight_estimate_fma(TWILIGHT_ESTIMATE_ARGS)
{
    grid_dependency_sync();
    __shared__ float qs[GROUP * D];
    __shared__ float qsum[GROUP];
    const int g = blockIdx.y, b = blockIdx.z, G = gridDim.y, H = G * GROUP;
    const int tid = threadIdx.x;
    const long long row = (long long)b * G + g;
    const int units = pcount[row] * PAGE;                        // listed positions of the row
    const int first = blockIdx.x * EST_THREADS * EST_TOKENS;
    if (first >= units) return;                                   // the whole block: no barrier skipped
    est_load_q(q + ((long long)b * H + g * GROUP) * D, qs, qsum);
    // The thread's EST_TOKENS positions, scored together so that each q value read from shared
    // memory serves all of them; a position that is not listed, past n or of no candidate head
    // scores zeros and is not stored.
    long long slot[EST_TOKENS];
    int pos[EST_TOKENS];
    unsigned bits[EST_TOKENS];
    #pragma unroll
    for (int t = 0; t < EST_TOKENS; ++t) {
        const int u = first + t * EST_THREADS + tid;
        pos[t] = -1;
        bits[t] = 0u;
        slot[t] = 0;
        if (u < units) {
            const int p = plist[row * listStride + u / PAGE] * PAGE + u % PAGE;
            if (p < n) {
                pos[t] = p;
                keptMask[row * keptStride + p] = 0u;
                bits[t] = pageMask[row * pageMaskStride + p / PAGE] & GROUP_BITS;
                slot[t] = row * tokCap + p;
            }
        }
    }
    float acc[EST_TOKENS][GROUP];
    #pragma unroll
    for (int t = 0; t < EST_TOKENS; ++t) {
        #pragma unroll
        for (int hh = 0; hh < GROUP; ++hh) acc[t][hh] = 0.f;
    }
    #pragma unroll
    for (int blk = 0; blk < D / 32; ++blk) {              // 16 bytes = two blocks of 16 dimensions
        unsigned w[EST_TOKENS][4];
        #pragma unroll
        for (int t = 0; t < EST_TOKENS; ++t) {
            uint4 word = make_uint4(0u, 0u, 0u, 0u);
            if (bits[t]) word = reinterpret_cast<const uint4*>(codes + slot[t] * (D / 2))[blk];
            w[t][0] = word.x; w[t][1] = word.y; w[t][2] = word.z; w[t][3] = word.w;
        }
        #pragma unroll
        for (int j = 0; j < 16; ++j) {
            const int i = blk * 32 + (j / 8) * 16 + (j % 8);   // low nibble's dimension
            float cl[EST_TOKENS], ch[EST_TOKENS];
            #pragma unroll
            for (int t = 0; t < EST_TOKENS; ++t) {
                const unsigned byte = (w[t][j / 4] >> (8 * (j % 4))) & 0xffu;
                cl[t] = __uint_as_float(0x4B000000u | (byte & 15u)) - 8388608.f;
                ch[t] = __uint_as_float(0x4B000000u | (byte >> 4)) - 8388608.f;
            }
            #pragma unroll
            for (int hh = 0; hh < GROUP; ++hh) {
                const float qa = qs[hh * D + i], qb = qs[hh * D + i + 8];
                #pragma unroll
                for (int t = 0; t < EST_TOKENS; ++t) acc[t][hh] = fmaf(qa, cl[t], fmaf(qb, ch[t], acc[t][hh]));
            }
        }
    }
    #pragma unroll
    for (int t = 0; t < EST_TOKENS; ++t) {
        if (!bits[t]) continue;
        const float zero = qzero[slot[t]], step = qscale[slot[t]];
        #pragma unroll
        for (int hh = 0; hh < GROUP; ++hh) {
            if (bits[t] & (1u << hh))
                est[((long long)b * H + g * GROUP + hh) * estStride + pos[t]] = (zero * qsum[hh] + step * acc[t][hh]) * scale;
        }
    }
}

// The estimate on tensor cores: the group's heads are the rows of an m16n8k16 product, 8 positions
// its columns, the 4-bit codes its B operand as exact kv_t values.
constexpr int EST_KSTEPS = D / 16;
constexpr int EST_LANE_BYTES = D / 8;          // code bytes of a position each of its 4 lanes loads

/// The dimension of a position whose nibble is element e (0..3: k = 2c, 2c + 1, 2c + 8, 2c + 9 of
/// m16n8k16) of k-step s for lane column c: lane c loads code bytes [c * EST_LANE_BYTES, +EST_LANE_BYTES)
/// and k-step s uses its bytes 4 (s / 2) + 2 (s % 2) and the next; byte j of a 16-dimension block
/// holds dimensions j (low nibble) and j + 8 (high, see twilight_quantize).
__device__ __forceinline__ int est_dim(int s, int c, int e) {
    const int o = c * EST_LANE_BYTES + 4 * (s / 2) + 2 * (s % 2);
    return 16 * (o / 8) + o % 8 + (e & 1) + 8 * (e >> 1);
}

#if KV_BF16
typedef __nv_bfloat162 est_pair_t;
constexpr unsigned EST_MAGIC = 0x43004300u;    // bf16 128 twice: 128 + x with x in the mantissa
#else
typedef __half2 est_pair_t;
constexpr unsigned EST_MAGIC = 0x64006400u;    // fp16 1024 twice: 1024 + x
#endif

/// The B registers of one k-step from the code word w: its bytes 2p and 2p + 1 (sel) hold dimensions
/// (j, j + 8) and (j + 1, j + 9); b0 = (j, j + 1), b1 = (j + 8, j + 9). A nibble x becomes the kv_t
/// whose mantissa it fills under a magic exponent (EST_MAGIC), minus the magic: exact.
__device__ __forceinline__ void est_codes_to_b(unsigned w, unsigned sel, unsigned& b0, unsigned& b1) {
    const unsigned y = __byte_perm(w, 0u, sel);    // byte 2p into bits 0-7, byte 2p + 1 into bits 16-23
    unsigned magic = EST_MAGIC, lo = (y & 0x000F000Fu) | EST_MAGIC, hi = ((y >> 4) & 0x000F000Fu) | EST_MAGIC;
    const est_pair_t m = *reinterpret_cast<est_pair_t*>(&magic);
    est_pair_t l = __hsub2(*reinterpret_cast<est_pair_t*>(&lo), m), h = __hsub2(*reinterpret_cast<est_pair_t*>(&hi), m);
    b0 = *reinterpret_cast<unsigned*>(&l);
    b1 = *reinterpret_cast<unsigned*>(&h);
}

/// twilight_estimate_fma on tensor cores, same arguments, grid and threads: warp w of a block takes
/// listed positions [first + 128 w, +128) as 16 tiles of 8 (half a page each, so one page-list entry
/// and one page-mask word a tile). Lane (r, c) loads position r's code bytes [c * D / 8, +D / 8); q
/// fragments are built once with the dimensions est_dim gives; head rows past GROUP are zero. The
/// products are exact (kv_t q times a nibble); their fp32 sums run in the tensor cores' order. The
/// warp's list entries and mask words are read once, then each TOGETHER tiles' codes and scales are
/// all requested before the first product, so a tile waits for one load, not a chain of four. Three
/// blocks a multiprocessor (80 registers; ptxas spills 20-68 bytes a thread).
extern "C" __global__ void __launch_bounds__(EST_THREADS, 3) twilight_estimate(TWILIGHT_ESTIMATE_ARGS)
{
    grid_dependency_sync();
    __shared__ float qs[GROUP * D];
    __shared__ float qsum[GROUP];
    const int g = blockIdx.y, b = blockIdx.z, G = gridDim.y, H = G * GROUP;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, c = lane & 3, r0 = lane >> 2;
    const long long row = (long long)b * G + g;
    const int units = pcount[row] * PAGE;                        // listed positions of the row
    const int first = blockIdx.x * EST_THREADS * EST_TOKENS;
    if (first >= units) return;                                   // the whole block: no barrier skipped
    est_load_q(q + ((long long)b * H + g * GROUP) * D, qs, qsum);
    unsigned a[EST_KSTEPS][4];
    #pragma unroll
    for (int s = 0; s < EST_KSTEPS; ++s) {
        #pragma unroll
        for (int r = 0; r < 4; ++r) {
            const int head = r0 + 8 * (r & 1), e = 2 * (r >> 1);
            a[s][r] = head < GROUP ? pack2(qs[head * D + est_dim(s, c, e)], qs[head * D + est_dim(s, c, e + 1)]) : 0u;
        }
    }
    constexpr int TILES = 32 * EST_TOKENS / 8;                  // a warp's tiles of 8 positions (16)
    constexpr int TOGETHER = 4;                                   // tiles whose loads are in flight at once
    constexpr int LW = EST_LANE_BYTES / 4;                        // code words a lane loads per tile
    const int wfirst = first + warp * TILES * 8;                  // a multiple of PAGE
    // The warp's TILES / 2 list entries and their mask words, one lane each, read once.
    int myPage = -1;
    unsigned myBits = 0u;
    if (lane < TILES / 2 && wfirst + PAGE * lane < units) {
        myPage = plist[row * listStride + wfirst / PAGE + lane];
        myBits = pageMask[row * pageMaskStride + myPage] & GROUP_BITS;
    }
    #pragma unroll 1
    for (int t0 = 0; t0 < TILES; t0 += TOGETHER) {
        int base[TOGETHER];
        unsigned bits[TOGETHER], w[TOGETHER][LW];
        float zero[TOGETHER][2], step[TOGETHER][2];
        // Every load of the tiles first: the codes of position r0, the scales of positions 2c, 2c + 1.
        #pragma unroll
        for (int t = 0; t < TOGETHER; ++t) {
            const int tile = t0 + t;
            const int page = __shfl_sync(0xffffffffu, myPage, tile / 2);
            bits[t] = __shfl_sync(0xffffffffu, myBits, tile / 2);
            base[t] = page < 0 ? n : page * PAGE + 8 * (tile & 1);    // n: nothing listed here
            if (lane < 8 && base[t] + lane < n) keptMask[row * keptStride + base[t] + lane] = 0u;
            const int p = base[t] + r0;
            const bool live = bits[t] && p < n;
            const unsigned char* src = codes + (row * tokCap + (live ? p : 0)) * (D / 2) + c * EST_LANE_BYTES;
            if constexpr (LW == 4) {
                const uint4 v = live ? *reinterpret_cast<const uint4*>(src) : make_uint4(0u, 0u, 0u, 0u);
                w[t][0] = v.x; w[t][1] = v.y; w[t][2] = v.z; w[t][3] = v.w;
            } else {
                const uint2 v = live ? *reinterpret_cast<const uint2*>(src) : make_uint2(0u, 0u);
                w[t][0] = v.x; w[t][1] = v.y;
            }
            #pragma unroll
            for (int e = 0; e < 2; ++e) {
                const int po = base[t] + 2 * c + e;
                const bool out = bits[t] && po < n && r0 < GROUP;
                zero[t][e] = out ? qzero[row * tokCap + po] : 0.f;
                step[t][e] = out ? qscale[row * tokCap + po] : 0.f;
            }
        }
        #pragma unroll
        for (int t = 0; t < TOGETHER; ++t) {
            if (!bits[t]) continue;                               // the tile's page: uniform over the warp
            float acc[4] = {0.f, 0.f, 0.f, 0.f};
            #pragma unroll
            for (int s = 0; s < EST_KSTEPS; ++s) {
                unsigned b0, b1;
                est_codes_to_b(w[t][s / 2], (s & 1) ? 0x4342u : 0x4140u, b0, b1);
                mma16816(acc, a[s], b0, b1);
            }
            #pragma unroll
            for (int e = 0; e < 2; ++e) {
                const int p = base[t] + 2 * c + e;
                if (p >= n) continue;
                #pragma unroll
                for (int half = 0; half < 2; ++half) {
                    const int head = r0 + 8 * half;
                    if (head < GROUP && (bits[t] >> head & 1u))
                        est[((long long)b * H + g * GROUP + head) * estStride + p] = (zero[t][e] * qsum[head] + step[t][e] * acc[2 * half + e]) * scale;
                }
            }
        }
    }
}

constexpr int TOPP_THREADS = 512;
constexpr int TOPP_ITERS = 24;
static_assert(TOPP_ITERS % 2 == 0, "the bisection takes its steps two at a time");

/// block_sum of three values at once (red: 96 floats): each sum takes the same steps as block_sum's.
__device__ __forceinline__ float3 block_sum3(float a, float b, float c, float* red) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    a = warp_sum(a); b = warp_sum(b); c = warp_sum(c);
    if (lane == 0) { red[warp] = a; red[32 + warp] = b; red[64 + warp] = c; }
    __syncthreads();
    float x = lane < warps ? red[lane] : 0.f, y = lane < warps ? red[32 + lane] : 0.f, z = lane < warps ? red[64 + lane] : 0.f;
    x = warp_sum(x); y = warp_sum(y); z = warp_sum(z);
    __syncthreads();
    return make_float3(x, y, z);
}

/// Twilight's pruning for one query head: softmax of the estimates over its candidate pages, then the
/// largest threshold theta (bisection over [0, max], 24 steps) whose weights >= theta hold topP of the
/// mass; marks bit hh of keptMask[b, g, pos] for those keys and writes their count. Each pass over the
/// weights takes two bisection steps: the masses at the midpoint and at both midpoints the next step
/// could take, computed as that step would, so theta is the one 24 single steps give.
/// grid (GROUP, G, B), 512 threads, dynamic shared memory capPages * 17 * 4 bytes.
extern "C" __global__ void __launch_bounds__(TOPP_THREADS) twilight_top_p(
    const float* __restrict__ est, long long estStride, const unsigned* __restrict__ pageMask, long long pageMaskStride,
    int pages, int capPages, int n, float topP, unsigned* __restrict__ keptMask, long long keptStride,
    int* __restrict__ keptCount)
{
    grid_dependency_sync();
    extern __shared__ __align__(16) unsigned char topp_smem[];
    __shared__ int warpSums[33];
    __shared__ float red[96];
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
        for (int it = 0; it < TOPP_ITERS; it += 2) {
            const float mid = (lo + hi) / 2, below = (lo + mid) / 2, above = (mid + hi) / 2;
            float sb = 0.f, sm = 0.f, sa = 0.f;
            for (int j = tid; j < cnt; j += blockDim.x) {
                const float x = w[j];
                if (x >= below) sb += x;
                if (x >= mid) sm += x;
                if (x >= above) sa += x;
            }
            const float3 mass = block_sum3(sb, sm, sa, red);
            if (mass.y >= target) { lo = mid; if (mass.z >= target) lo = above; else hi = above; }
            else { hi = mid; if (mass.x >= target) lo = below; else hi = below; }
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
    grid_dependency_sync();
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

