/// Scratch memory of the attention kernels, allocated once and reused across calls (grows on demand,
/// never shrinks), so a layer call allocates nothing in steady state. Not for concurrent calls.
public final class AttentionWorkspace {
    /// Keys scored per inner block.
    static let chunk = 128

    /// One worker's scratch: scores `[rows, chunk]`, running max/sum `[rows]`, accumulators `[rows, d]`.
    final class Worker {
        let rows: Int, headDim: Int
        let scores: UnsafeMutablePointer<Float>
        let maxima: UnsafeMutablePointer<Float>
        let sums: UnsafeMutablePointer<Float>
        let acc: UnsafeMutablePointer<Float>
        /// Keys read by this worker in the last run (times rows).
        var keysRead = 0
        /// Sink of the prefetching loads (kept so they are not removed).
        var touched: UInt32 = 0
        /// Element offsets of the current block's key rows, `[chunk]`.
        let offsets: UnsafeMutablePointer<Int>
        /// `chunk` zeros: the weights of padding rows.
        let zeros: UnsafeMutablePointer<Float>
        /// `headDim` floats that padding rows accumulate into.
        let discard: UnsafeMutablePointer<Float>

        init(rows: Int, headDim: Int) {
            self.rows = rows
            self.headDim = headDim
            scores = .allocate(capacity: rows * AttentionWorkspace.chunk)
            maxima = .allocate(capacity: rows)
            sums = .allocate(capacity: rows)
            acc = .allocate(capacity: rows * headDim)
            offsets = .allocate(capacity: AttentionWorkspace.chunk)
            zeros = .allocate(capacity: AttentionWorkspace.chunk)
            zeros.initialize(repeating: 0, count: AttentionWorkspace.chunk)
            discard = .allocate(capacity: headDim)
            discard.initialize(repeating: 0, count: headDim)
        }

        deinit {
            scores.deallocate(); maxima.deallocate(); sums.deallocate(); acc.deallocate()
            offsets.deallocate(); zeros.deallocate(); discard.deallocate()
        }
    }

    private(set) var workers: [Worker] = []
    private(set) var partials: UnsafeMutablePointer<Float>? = nil
    private var partialCapacity = 0
    private var floatBuffers: [UnsafeMutableBufferPointer<Float>] = []
    private var intBuffers: [UnsafeMutableBufferPointer<Int32>] = []

    /// An empty workspace; the first call sizes it.
    public init() {}

    deinit {
        partials?.deallocate()
        for b in floatBuffers { b.deallocate() }
        for b in intBuffers { b.deallocate() }
    }

    /// Makes room for `count` workers of `rows` query rows of `headDim`, and `partialFloats` split partials.
    func prepare(workers count: Int, rows: Int, headDim: Int, partialFloats: Int) {
        if workers.count < count || workers.first.map({ $0.rows < rows || $0.headDim != headDim }) ?? false {
            let r = max(rows, workers.first?.rows ?? 0)
            workers = (0..<max(count, workers.count)).map { _ in Worker(rows: r, headDim: headDim) }
        }
        if partialCapacity < partialFloats {
            partials?.deallocate()
            partials = .allocate(capacity: partialFloats)
            partialCapacity = partialFloats
        }
    }

    /// A float buffer named by `slot`, at least `count` long, kept between calls.
    func floats(_ slot: Int, _ count: Int) -> UnsafeMutablePointer<Float> {
        while floatBuffers.count <= slot { floatBuffers.append(.allocate(capacity: 0)) }
        if floatBuffers[slot].count < max(count, 1) {
            floatBuffers[slot].deallocate()
            floatBuffers[slot] = .allocate(capacity: max(count, 1, floatBuffers[slot].count * 2))
        }
        return floatBuffers[slot].baseAddress!
    }

    /// An int32 buffer named by `slot`, at least `count` long, kept between calls.
    func ints(_ slot: Int, _ count: Int) -> UnsafeMutablePointer<Int32> {
        while intBuffers.count <= slot { intBuffers.append(.allocate(capacity: 0)) }
        if intBuffers[slot].count < max(count, 1) {
            intBuffers[slot].deallocate()
            intBuffers[slot] = .allocate(capacity: max(count, 1, intBuffers[slot].count * 2))
        }
        return intBuffers[slot].baseAddress!
    }
}
