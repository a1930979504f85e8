/// The attention shapes the kernels are built for, checked once for every launcher.
enum KernelShape {
    /// The GQA group `queryHeads / kvHeads` after checking that `headDim` is 64 or 128, the head
    /// counts are positive and divide, and the group is at most `maxGroup` (`what` names the kernels in
    /// the error).
    static func group(headDim: Int, queryHeads: Int, kvHeads: Int, maxGroup: Int, what: String) throws(CUDAError) -> Int {
        guard headDim == 64 || headDim == 128 else { throw .unsupported("head dim \(headDim) (64 and 128 are built)") }
        guard kvHeads > 0, queryHeads > 0, queryHeads % kvHeads == 0 else {
            throw .badArgument("query heads \(queryHeads) are not a multiple of KV heads \(kvHeads)")
        }
        let group = queryHeads / kvHeads
        guard group <= maxGroup else { throw .unsupported("GQA group \(group) for \(what) (at most \(maxGroup))") }
        return group
    }
}
