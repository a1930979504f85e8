import Dispatch
import KascadeCore

/// One product of a ``MatmulGroup``: `output[t * outStride + r] = sum_c W[r, c] * input[t * inStride + c]`.
struct MatmulTask: @unchecked Sendable {
    /// `W`, `[rows, cols]`.
    let weight: WeightMatrix
    /// `[T, outStride]` row-major; columns `0 ..< rows` written.
    let output: UnsafeMutablePointer<Float>
    /// Floats between consecutive tokens' outputs.
    let outStride: Int
}

/// Matrix products that share one input `[T, cols]`, run in one parallel pass over all cores.
///
/// Work is split into tiles of ``tileRows`` weight rows. A tile's rows are expanded from their
/// quantised form into a per-chunk float32 scratch once and then multiplied against every token
/// of the input with a 4-row x 4-token register block, so dequantisation costs `1/T` per product.
final class MatmulGroup: @unchecked Sendable {
    /// Weight rows expanded at a time.
    static let tileRows = 16

    let tasks: [MatmulTask]
    let cols: Int
    private let tileStart: [Int]
    let totalTiles: Int

    /// Tasks must all have `cols` input features.
    init(_ tasks: [MatmulTask]) {
        precondition(!tasks.isEmpty && tasks.allSatisfy { $0.weight.cols == tasks[0].weight.cols })
        self.tasks = tasks
        cols = tasks[0].weight.cols
        var starts: [Int] = []
        var n = 0
        for t in tasks {
            starts.append(n)
            n += (t.weight.rows + MatmulGroup.tileRows - 1) / MatmulGroup.tileRows
        }
        tileStart = starts
        totalTiles = n
    }

    /// Runs every task on `input` `[tokens, inStride]`; `scratch` holds one tile per chunk.
    func run(input: UnsafePointer<Float>, inStride: Int, tokens: Int, scratch: MatmulScratch) {
        precondition(cols <= scratch.maxCols)
        let chunks = min(totalTiles, scratch.chunks)
        let total = totalTiles
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = c * total / chunks, hi = (c + 1) * total / chunks
            let buf = scratch.tile(c)
            var ti = 0
            for tile in lo..<hi {
                while ti + 1 < tasks.count && tileStart[ti + 1] <= tile { ti += 1 }
                let task = tasks[ti]
                let row0 = (tile - tileStart[ti]) * MatmulGroup.tileRows
                let n = min(MatmulGroup.tileRows, task.weight.rows - row0)
                if tokens < 4 {
                    // Few tokens: expand one row at a time so it stays in L1 between expansion and use.
                    for r in row0..<(row0 + n) {
                        task.weight.dequantizeRows(r, count: 1, into: buf)
                        for t in 0..<tokens {
                            task.output[t * task.outStride + r] = MatmulKernels.dot(buf, input + t * inStride, cols)
                        }
                    }
                } else {
                    task.weight.dequantizeRows(row0, count: n, into: buf)
                    MatmulKernels.tile(w: buf, rows: n, cols: cols, x: input, xStride: inStride, tokens: tokens,
                                       out: task.output + row0, outStride: task.outStride)
                }
            }
        }
    }
}

/// Per-chunk float32 scratch for ``MatmulGroup``: `chunks` tiles of `tileRows x maxCols`.
final class MatmulScratch: @unchecked Sendable {
    let chunks: Int
    let maxCols: Int
    private let buffer: UnsafeMutablePointer<Float>

    init(maxCols: Int, chunks: Int = ProcessInfoCores.count * 4) {
        self.chunks = chunks
        self.maxCols = maxCols
        buffer = .allocate(capacity: chunks * MatmulGroup.tileRows * maxCols)
        buffer.initialize(repeating: 0, count: chunks * MatmulGroup.tileRows * maxCols)
    }

    func tile(_ c: Int) -> UnsafeMutablePointer<Float> { buffer + c * MatmulGroup.tileRows * maxCols }

    deinit { buffer.deallocate() }
}
