/// A 4-bit copy of one layer's keys for Twilight's score estimate: per token and KV head an
/// asymmetric quantisation with zero point `min` and `scale = (max - min) / 15` over the `d`
/// dimensions, `k_i ~ min + scale * c_i` with codes `c_i` in `0 ... 15`.
///
/// Codes are packed two per byte in blocks of 16 dimensions: byte `j` of a block holds dimension
/// `j` in its low nibble and dimension `j + 8` in its high nibble, so a block unpacks into two
/// contiguous `SIMD8` lanes. Rows are padded to a whole block with zero codes. ``update(from:)``
/// quantises only the positions appended since the previous update; a shorter cache or another
/// head layout starts over.
public final class Int4KeyCache {
    /// KV heads `G`.
    public private(set) var kvHeads = 0
    /// Head dimension `d`.
    public private(set) var headDim = 0
    /// Positions quantised so far.
    public private(set) var coveredLength = 0
    /// `d` rounded up to a multiple of 16.
    public private(set) var paddedDim = 0
    private var tokenCapacity = 0
    private var codes: UnsafeMutablePointer<UInt8>
    private var scales: UnsafeMutablePointer<Float>
    private var zeros: UnsafeMutablePointer<Float>

    /// An empty cache.
    public init() {
        codes = .allocate(capacity: 1)
        scales = .allocate(capacity: 1)
        zeros = .allocate(capacity: 1)
    }

    deinit {
        codes.deallocate()
        scales.deallocate()
        zeros.deallocate()
    }

    /// Bytes per quantised key row.
    public var bytesPerRow: Int { paddedDim / 2 }

    /// Forgets every position.
    public func clear() { coveredLength = 0 }

    /// Quantisation step of position `n` of KV head `g`.
    public func scale(_ g: Int, _ n: Int) -> Float { scales[g * tokenCapacity + n] }

    /// Zero point (the row minimum) of position `n` of KV head `g`.
    public func zeroPoint(_ g: Int, _ n: Int) -> Float { zeros[g * tokenCapacity + n] }

    /// Code `c_i` of dimension `i` of position `n` of KV head `g`, in `0 ... 15`.
    public func code(_ g: Int, _ n: Int, _ i: Int) -> UInt8 {
        let byte = codes[(g * tokenCapacity + n) * bytesPerRow + (i / 16) * 8 + (i % 8)]
        return (i % 16) < 8 ? byte & 0x0F : byte >> 4
    }

    /// Quantises positions `coveredLength ..< kv.length` of `kv`.
    public func update(from kv: KVCacheView) {
        let geo = kv.geometry
        if geo.kvHeads != kvHeads || geo.headDim != headDim || kv.length < coveredLength {
            kvHeads = geo.kvHeads
            headDim = geo.headDim
            paddedDim = (geo.headDim + 15) / 16 * 16
            coveredLength = 0
            tokenCapacity = 0
        }
        let n = kv.length
        guard n > coveredLength else { return }
        grow(toTokens: n)
        let d = headDim, rowBytes = bytesPerRow
        for g in 0..<kvHeads {
            for pos in coveredLength..<n {
                let k = kv.key(g, pos)
                var lo = k[0], hi = k[0]
                for i in 1..<d {
                    lo = min(lo, k[i])
                    hi = max(hi, k[i])
                }
                let step = (hi - lo) / 15
                let inv: Float = step > 0 ? 1 / step : 0
                let slot = g * tokenCapacity + pos
                scales[slot] = step
                zeros[slot] = lo
                let row = codes + slot * rowBytes
                row.initialize(repeating: 0, count: rowBytes)
                for i in 0..<d {
                    let c = UInt8(min(15, max(0, ((k[i] - lo) * inv).rounded())))
                    let byte = (i / 16) * 8 + (i % 8)
                    row[byte] |= (i % 16) < 8 ? c : c << 4
                }
            }
        }
        coveredLength = n
    }

    /// Estimated `q . k` of position `n` of KV head `g`: `zero * sum(q) + scale * sum_i q_i c_i`.
    /// - Parameters:
    ///   - paddedQuery: `paddedDim` floats, the query followed by zeros.
    ///   - querySum: `sum_i q_i`.
    @inline(__always)
    func estimateDot(_ g: Int, _ n: Int, paddedQuery: UnsafePointer<Float>, querySum: Float) -> Float {
        let slot = g * tokenCapacity + n
        let row = UnsafeRawPointer(codes + slot * bytesPerRow)
        var acc = SIMD8<Float>()
        var block = 0
        while block < paddedDim {
            let packed = row.loadUnaligned(fromByteOffset: block / 2, as: SIMD8<UInt8>.self)
            let low = SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: packed & 0x0F))
            let high = SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: packed &>> 4))
            let q0 = UnsafeRawPointer(paddedQuery + block).loadUnaligned(as: SIMD8<Float>.self)
            let q1 = UnsafeRawPointer(paddedQuery + block + 8).loadUnaligned(as: SIMD8<Float>.self)
            acc += low * q0 + high * q1
            block += 16
        }
        return zeros[slot] * querySum + scales[slot] * acc.sum()
    }

    /// Makes room for `tokens` positions per head, keeping those already quantised.
    private func grow(toTokens tokens: Int) {
        guard tokens > tokenCapacity else { return }
        let newCapacity = max(tokens, tokenCapacity * 2, 256)
        let rowBytes = bytesPerRow
        let newCodes = UnsafeMutablePointer<UInt8>.allocate(capacity: kvHeads * newCapacity * rowBytes)
        let newScales = UnsafeMutablePointer<Float>.allocate(capacity: kvHeads * newCapacity)
        let newZeros = UnsafeMutablePointer<Float>.allocate(capacity: kvHeads * newCapacity)
        if coveredLength > 0 {
            for g in 0..<kvHeads {
                (newCodes + g * newCapacity * rowBytes).update(from: codes + g * tokenCapacity * rowBytes,
                                                               count: coveredLength * rowBytes)
                (newScales + g * newCapacity).update(from: scales + g * tokenCapacity, count: coveredLength)
                (newZeros + g * newCapacity).update(from: zeros + g * tokenCapacity, count: coveredLength)
            }
        }
        codes.deallocate()
        scales.deallocate()
        zeros.deallocate()
        codes = newCodes
        scales = newScales
        zeros = newZeros
        tokenCapacity = newCapacity
    }
}
