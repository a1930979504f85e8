/// Exact top-k selection with a deterministic tie-break: a higher score first, then the lower index.
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
        for i in 0..<count { scratch[i] = Int32(i) }
        // `before(a, b)`: a ranks ahead of b.
        @inline(__always) func before(_ a: Int32, _ b: Int32) -> Bool {
            let sa = scores[Int(a)], sb = scores[Int(b)]
            if sa.isNaN != sb.isNaN { return sb.isNaN }
            if sa != sb { return sa > sb }
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
}

extension UnsafeMutablePointer {
    @inline(__always) fileprivate func swapAt(_ i: Int, _ j: Int) {
        let t = self[i]; self[i] = self[j]; self[j] = t
    }
}
