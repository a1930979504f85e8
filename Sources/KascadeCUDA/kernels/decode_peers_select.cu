// Quest's page selection for one (sequence, KV head) in one block: every query head's top pages,
// the group's mask row and its compacted page list, without a memset or a second kernel. Compiled
// after decode_peers.cu (one NVRTC unit, see KernelSource), whose helpers it uses.
//
// The block's warps form GROUP teams, one per query head. A team keeps its head's page scores in
// registers (a contiguous run of units per thread) and finds the k-th largest by four 8-bit radix
// digits with a histogram per team in shared memory, so the heads advance together and no pass
// reads global memory; the passes stop once every head's bin picked is kept whole. (A bisection
// over the key space, 32 barrier steps, measured 12 us slower at batch 8, 32k on the H100.)

constexpr int QS_THREADS = 1024;
constexpr int QS_TEAM_WARPS = (QS_THREADS / 32) / GROUP;   // >= 2 for GROUP <= 16
constexpr int QS_TEAM = QS_TEAM_WARPS * 32;
constexpr int QS_MAXE = 32;                                // units a thread holds
constexpr int QS_BINS = 256;

/// Units lo ..< lo + cnt of this thread's run of the head's scores, as rank keys (4-unit loads).
__device__ __forceinline__ void qs_load(const float* __restrict__ row, int lo, int cnt, unsigned* key) {
    #pragma unroll
    for (int i = 0; i < QS_MAXE; i += 4) {
        if (i < cnt) {
            float4 x = *reinterpret_cast<const float4*>(row + lo + i);   // lo % 4 == 0, row 16-byte aligned
            key[i] = rank_key(x.x); key[i + 1] = rank_key(x.y); key[i + 2] = rank_key(x.z); key[i + 3] = rank_key(x.w);
        }
    }
}

/// Quest's selection (SPEC 2.3) for the group of KV head g of sequence b: each query head's top `k`
/// of pages 0 ..< full by score (scores [B, H, scoreStride]; among equal scores the lowest pages
/// first) plus pages full ..< pages for every head. Writes the whole mask row mask[b, g, 0 ..< pages]
/// (bit hh per query head), the selected pages ascending into plist[b, g, ...] with their bits in
/// pbits[b, g, ...] and their count into pcount[b, g]. 0 <= k <= full; `seg` (a multiple of 4, at
/// most QS_MAXE) units per thread cover full. grid (G, B), QS_THREADS threads, pages * 4 bytes of
/// dynamic shared memory. The k-th largest key of each head comes from four 8-bit radix digits (a
/// histogram per head in shared memory).
extern "C" __global__ void __launch_bounds__(QS_THREADS) quest_select_list(
    const float* __restrict__ scores, long long scoreStride, int full, int pages, int k, int seg,
    unsigned* __restrict__ mask, long long maskStride, int* __restrict__ plist, unsigned* __restrict__ pbits,
    long long listStride, int* __restrict__ pcount)
{
    grid_dependency_sync();
    extern __shared__ unsigned words[];                    // [pages]
    __shared__ int hist[GROUP][2][QS_BINS];
    __shared__ int sel[GROUP][3];                          // bin, need left, kept whole (1 or 0)
    __shared__ int teamSums[GROUP][QS_TEAM_WARPS];
    __shared__ int warpSums[33];
    const int g = blockIdx.x, b = blockIdx.y, G = gridDim.x, H = G * GROUP;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int team = warp / QS_TEAM_WARPS, tt = tid - team * QS_TEAM, tw = warp - team * QS_TEAM_WARPS;
    const bool inTeam = team < GROUP;
    const long long row = (long long)b * G + g;

    for (int i = tid; i < pages; i += QS_THREADS) words[i] = i >= full ? GROUP_BITS : 0u;
    for (int i = tid; i < GROUP * 2 * QS_BINS; i += QS_THREADS) (&hist[0][0][0])[i] = 0;

    const int lo = min(full, tt * seg), cnt = inTeam ? min(full, lo + seg) - lo : 0;
    unsigned key[QS_MAXE];
    #pragma unroll
    for (int i = 0; i < QS_MAXE; ++i) key[i] = 0u;
    const bool all = k >= full, none = k <= 0;
    if (inTeam && !all && !none) qs_load(scores + ((long long)b * H + g * GROUP + team) * scoreStride, lo, cnt, key);
    __syncthreads();

    unsigned prefix = 0, pmask = 0;
    int need = k;
    bool whole = false;                                    // this head's last bin picked is kept whole
    if (!all && !none) {
        #pragma unroll 1
        for (int pass = 0; pass < 4; ++pass) {
            const int shift = 24 - 8 * pass;
            int* h = inTeam ? hist[team][pass & 1] : nullptr;
            #pragma unroll
            for (int i = 0; i < QS_MAXE; ++i) {
                if (i >= seg) break;                                      // uniform over the block
                const bool active = !whole && i < cnt && (key[i] & pmask) == prefix;
                hist_add(h, (key[i] >> shift) & 255u, active);
            }
            __syncthreads();
            if (inTeam && tw == 0 && !whole) {
                // Lane l holds bins 255 - 8l down to 248 - 8l; the team's need-th largest lies in one.
                int c[8], sum = 0;
                #pragma unroll
                for (int j = 0; j < 8; ++j) { c[j] = h[255 - 8 * lane - j]; sum += c[j]; }
                int inc = sum;
                #pragma unroll
                for (int o = 1; o < 32; o <<= 1) {
                    const int y = __shfl_up_sync(FULL, inc, o);
                    if (lane >= o) inc += y;
                }
                int above = inc - sum;
                if (above < need && need <= inc) {
                    #pragma unroll
                    for (int j = 0; j < 8; ++j) {
                        if (above < need && need <= above + c[j]) {
                            const unsigned bin = 255 - 8 * lane - j;
                            sel[team][0] = bin; sel[team][1] = need - above;
                            sel[team][2] = need - above == c[j] && (prefix | bin << shift) != 0u;
                        }
                        above += c[j];
                    }
                }
            } else if (inTeam && tw == 1) {
                // The other buffer was last read before the previous barrier: clear it for the next pass.
                int* nh = hist[team][(pass + 1) & 1];
                #pragma unroll
                for (int j = 0; j < QS_BINS / 32; ++j) nh[lane + 32 * j] = 0;
            }
            __syncthreads();
            if (inTeam && !whole) {
                prefix |= (unsigned)sel[team][0] << shift;
                pmask |= 255u << shift;
                need = sel[team][1];
                whole = sel[team][2];
            }
            // Once every head's bin picked is kept whole, no digit is left to find (uniform: the
            // flags are read between this barrier and the next pass's first).
            bool every = true;
            #pragma unroll
            for (int t = 0; t < GROUP; ++t) every &= sel[t][2] != 0;
            if (every) break;
        }
        // A head whose bin is kept whole takes every key at or above its digits so far.
        if (whole) { prefix -= 1u; need = 0; }
    }

    // Marks: every key above the threshold, and the first `need` keys equal to it in page order.
    if (!none) {
        int eq = 0;
        #pragma unroll
        for (int i = 0; i < QS_MAXE; ++i) {
            if (i >= seg) break;
            eq += (!all && i < cnt && key[i] == prefix) ? 1 : 0;
        }
        int inc = eq;
        #pragma unroll
        for (int o = 1; o < 32; o <<= 1) {
            const int y = __shfl_up_sync(FULL, inc, o);
            if (lane >= o) inc += y;
        }
        if (inTeam && lane == 31) teamSums[team][tw] = inc;
        __syncthreads();
        int before = inc - eq;
        for (int w = 0; w < tw && inTeam; ++w) before += teamSums[team][w];
        int eqLeft = max(0, need - before);
        const unsigned bit = 1u << (inTeam ? team : 0);
        #pragma unroll
        for (int i = 0; i < QS_MAXE; ++i) {
            if (i >= seg) break;
            if (i < cnt) {
                bool take = all || key[i] > prefix;
                if (!take && key[i] == prefix && eqLeft > 0) { take = true; --eqLeft; }
                if (take) atomicOr(&words[lo + i], bit);
            }
        }
    }
    __syncthreads();

    // The mask row, written whole, and the group's pages ascending with their bits.
    unsigned* mrow = mask + row * maskStride;
    int* lrow = plist + row * listStride;
    unsigned* brow = pbits + row * listStride;
    int np = 0;
    for (int base = 0; base < pages; base += QS_THREADS) {
        const int p = base + tid;
        const unsigned w = p < pages ? words[p] : 0u;
        if (p < pages) mrow[p] = w;
        int tot;
        const int at = np + block_scan(w != 0u ? 1 : 0, warpSums, tot);
        if (w != 0u) { lrow[at] = p; brow[at] = w; }
        np += tot;
    }
    if (tid == 0) pcount[row] = np;
}
