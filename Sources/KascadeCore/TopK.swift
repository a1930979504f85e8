/// Exact top-k selection with a deterministic tie-break: a higher score first, then the lower index.
/// Rows of 256 or more scores use a radix select on order-preserving keys (no sort), shorter ones a quickselect.
public enum TopK {
    /// Writes the positions of the `k` largest of `scores[0 ..< count]` into `result`, in ascending
    /// position order. NaN scores are never selected before finite ones.
    ///
    /// - Parameter scratch: at least `count` `Int32`s of scratch space.
    public static func select(scores: UnsafePointer<Float>, count: Int, k: Int,
                              scratch: UnsafeMutablePointer<Int32>,
                              into result: UnsafeMutablePointer<Int32>) {
        let k = min(max(k, 0), count)
        guard k > 0 else { return }
        if k == count {
            for i in 0..<count { result[i] = Int32(i) }
            return
        }
        if count >= 256 {
            radixSelect(scores: scores, count: count, k: k, into: result)
            return
        }
        for i in 0..<count { scratch[i] = Int32(i) }
        // `before(a, b)`: a ranks ahead of b.
        @inline(__always) func before(_ a: Int32, _ b: Int32) -> Bool {
            let sa = scores[Int(a)], sb = scores[Int(b)]
            if sa.isNaN != sb.isNaN { return sb.isNaN }
            if !sa.isNaN && sa != sb { return sa > sb }
            return a < b
        }
        // Quickselect the first k ranks into scratch[0 ..< k].
        var lo = 0, hi = count - 1
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            let pivot = scratch[mid]
            scratch.swapAt(mid, hi)
            var store = lo
            for i in lo..<hi where before(scratch[i], pivot) {
                scratch.swapAt(i, store)
                store += 1
            }
            scratch.swapAt(store, hi)
            if store == k - 1 || store == k { break }
            if store < k - 1 { lo = store + 1 } else { hi = store - 1 }
        }
        var chosen = UnsafeMutableBufferPointer(start: result, count: k)
        for i in 0..<k { chosen[i] = scratch[i] }
        chosen.sort()
    }

    /// Order-preserving key of a score: a larger key ranks ahead; NaN maps to 0 (last), `-0` to `+0`.
    @inline(__always) static func rankKey(_ x: Float) -> UInt32 {
        if x.isNaN { return 0 }
        let b = x == 0 ? 0 : x.bitPattern
        return b & 0x8000_0000 != 0 ? ~b : b | 0x8000_0000
    }

    /// Radix select: finds the key of the `k`-th ranked score (three digit passes over histograms),
    /// then one scan in position order takes every key above it and the first ones equal to it.
    /// Output is ascending without a sort.
    static func radixSelect(scores: UnsafePointer<Float>, count: Int, k: Int,
                            into result: UnsafeMutablePointer<Int32>) {
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: 2048) { hist in
            let h = hist.baseAddress!
            var prefix: UInt32 = 0      // digits of the threshold found so far (high bits)
            var prefixMask: UInt32 = 0  // which bits of a key `prefix` covers
            var need = k                // ranks still to place at or below the prefix
            var above = 0               // keys strictly above the threshold so far
            for pass in 0..<3 {
                let shift: UInt32 = pass == 0 ? 21 : (pass == 1 ? 10 : 0)
                let bins = pass == 2 ? 1024 : 2048
                for b in 0..<bins { h[b] = 0 }
                let digitMask = UInt32(bins - 1)
                for i in 0..<count {
                    let key = rankKey(scores[i])
                    if key & prefixMask == prefix { h[Int((key >> shift) & digitMask)] += 1 }
                }
                var b = bins - 1
                var acc = 0
                while true {
                    let c = Int(h[b])
                    if acc + c >= need { break }
                    acc += c
                    b -= 1
                }
                need -= acc
                above += acc
                prefix |= UInt32(b) << shift
                prefixMask |= digitMask << shift
            }
            // `prefix` is the threshold key; `above` keys exceed it; take `need` of those equal.
            var n = 0, ties = need
            for i in 0..<count {
                let key = rankKey(scores[i])
                if key > prefix || (key == prefix && ties > 0) {
                    if key == prefix { ties -= 1 }
                    result[n] = Int32(i)
                    n += 1
                }
            }
        }
    }
}

extension UnsafeMutablePointer {
    @inline(__always) fileprivate func swapAt(_ i: Int, _ j: Int) {
        let t = self[i]; self[i] = self[j]; self[j] = t
    }
}
