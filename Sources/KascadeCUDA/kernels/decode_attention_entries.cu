// The entry points of the split-KV decode kernels, shared by both builds: compiled after
// decode_attention.cu (CUDA cores) or decode_attention_mma.cu (tensor cores), each of which
// defines THREADS and decode_split<INDEXED, DO_PV, WRITE_LOGITS, LOGITS_IN> with these arguments.

/// Dense decode, one split of the keys: grid (S, G, B), 128 threads.
extern "C" __global__ void __launch_bounds__(THREADS) decode_dense_split(
    const kv_t* q, const kv_t* k, const kv_t* v, long long kvBatchStride, long long kvHeadStride,
    int n, int chunk, float scale, float* partO, float2* partML, int splits)
{
    grid_dependency_sync();
    decode_split<false, true, false>(q, k, v, kvBatchStride, kvHeadStride, nullptr, 0, 0, nullptr,
                                     n, chunk, scale, partO, partML, splits, nullptr, 0);
}

/// Dense decode that also writes the scaled scores (Kascade layer 0).
extern "C" __global__ void __launch_bounds__(THREADS) decode_dense_logits_split(
    const kv_t* q, const kv_t* k, const kv_t* v, long long kvBatchStride, long long kvHeadStride,
    int n, int chunk, float scale, float* partO, float2* partML, int splits,
    float* logits, long long logitRowStride)
{
    grid_dependency_sync();
    decode_split<false, true, true>(q, k, v, kvBatchStride, kvHeadStride, nullptr, 0, 0, nullptr,
                                    n, chunk, scale, partO, partML, splits, logits, logitRowStride);
}

/// Scores only (Kascade anchor): scaled scores and per-split softmax statistics, values untouched.
extern "C" __global__ void __launch_bounds__(THREADS) decode_scores_split(
    const kv_t* q, const kv_t* k, long long kvBatchStride, long long kvHeadStride,
    int n, int chunk, float scale, float2* partML, int splits, float* logits, long long logitRowStride)
{
    grid_dependency_sync();
    decode_split<false, false, true>(q, k, k, kvBatchStride, kvHeadStride, nullptr, 0, 0, nullptr,
                                     n, chunk, scale, nullptr, partML, splits, logits, logitRowStride);
}

/// Attention over `count` listed positions per KV head (row headMap[g] of idx; identity if null).
extern "C" __global__ void __launch_bounds__(THREADS) decode_sparse_split(
    const kv_t* q, const kv_t* k, const kv_t* v, long long kvBatchStride, long long kvHeadStride,
    const int* idx, long long idxBatchStride, long long idxRowStride, const int* headMap,
    int count, int chunk, float scale, float* partO, float2* partML, int splits)
{
    grid_dependency_sync();
    decode_split<true, true, false>(q, k, v, kvBatchStride, kvHeadStride, idx, idxBatchStride,
                                    idxRowStride, headMap, count, chunk, scale, partO, partML,
                                    splits, nullptr, 0);
}

#if GROUP % 4 == 0
/// Attention over listed positions whose scaled scores are already in `logits` [B, G, logitRowStride,
/// GROUP] (Kascade's anchor over its own selection, identity head map): only values are gathered.
extern "C" __global__ void __launch_bounds__(THREADS) decode_sparse_logits_split(
    const kv_t* v, long long kvBatchStride, long long kvHeadStride,
    const int* idx, long long idxBatchStride, long long idxRowStride,
    int count, int chunk, float* partO, float2* partML, int splits, float* logits, long long logitRowStride)
{
    grid_dependency_sync();
    decode_split<true, true, false, true>(nullptr, v, v, kvBatchStride, kvHeadStride, idx, idxBatchStride,
                                          idxRowStride, nullptr, count, chunk, 1.f, partO, partML,
                                          splits, logits, logitRowStride);
}
#endif
