/// Quest's page metadata of one layer: for KV head `g` and page `p` (positions
/// `p * pageSize ..< (p + 1) * pageSize`), the element-wise minimum and maximum of the page's keys.
///
/// ``update(from:)`` folds in only the positions added since the previous update; the last page may
/// be partial, and its bounds widen as positions arrive. A cache shorter than what was folded in, or
/// of another head layout, starts the table over (a new sequence).
public final class QuestPageTable {
    /// Positions per page.
    public let pageSize: Int
    /// KV heads `G` the table describes.
    public private(set) var kvHeads = 0
    /// Head dimension `d`.
    public private(set) var headDim = 0
    /// Positions folded in so far.
    public private(set) var coveredLength = 0
    private var pageCapacity = 0
    private var mins: UnsafeMutablePointer<Float>
    private var maxs: UnsafeMutablePointer<Float>

    /// An empty table with pages of `pageSize` positions.
    public init(pageSize: Int = 16) {
        precondition(pageSize > 0, "page size must be positive, got \(pageSize)")
        self.pageSize = pageSize
        mins = .allocate(capacity: 1)
        maxs = .allocate(capacity: 1)
    }

    deinit {
        mins.deallocate()
        maxs.deallocate()
    }

    /// Pages holding the covered positions (the last one possibly partial).
    public var pageCount: Int { (coveredLength + pageSize - 1) / pageSize }

    /// Element-wise minimum of page `p`'s keys of KV head `g`, `d` floats.
    public func minKey(_ g: Int, _ p: Int) -> UnsafePointer<Float> { UnsafePointer(mins + offset(g, p)) }

    /// Element-wise maximum of page `p`'s keys of KV head `g`, `d` floats.
    public func maxKey(_ g: Int, _ p: Int) -> UnsafePointer<Float> { UnsafePointer(maxs + offset(g, p)) }

    @inline(__always) private func offset(_ g: Int, _ p: Int) -> Int { (g * pageCapacity + p) * headDim }

    /// Forgets every page.
    public func clear() { coveredLength = 0 }

    /// Folds positions `coveredLength ..< kv.length` of `kv` into the page bounds.
    public func update(from kv: KVCacheView) {
        let geo = kv.geometry
        if geo.kvHeads != kvHeads || geo.headDim != headDim || kv.length < coveredLength {
            kvHeads = geo.kvHeads
            headDim = geo.headDim
            coveredLength = 0
            pageCapacity = 0
        }
        let n = kv.length
        guard n > coveredLength else { return }
        grow(toPages: (n + pageSize - 1) / pageSize)
        let d = headDim
        for g in 0..<kvHeads {
            for pos in coveredLength..<n {
                let p = pos / pageSize
                let lo = mins + offset(g, p), hi = maxs + offset(g, p)
                let k = kv.key(g, pos)
                if pos % pageSize == 0 {
                    lo.update(from: k, count: d)
                    hi.update(from: k, count: d)
                } else {
                    var i = 0
                    while i + 8 <= d {
                        let kk = UnsafeRawPointer(k + i).loadUnaligned(as: SIMD8<Float>.self)
                        let a = UnsafeRawPointer(lo + i).loadUnaligned(as: SIMD8<Float>.self)
                        let b = UnsafeRawPointer(hi + i).loadUnaligned(as: SIMD8<Float>.self)
                        UnsafeMutableRawPointer(lo + i).storeBytes(of: pointwiseMin(a, kk), as: SIMD8<Float>.self)
                        UnsafeMutableRawPointer(hi + i).storeBytes(of: pointwiseMax(b, kk), as: SIMD8<Float>.self)
                        i += 8
                    }
                    while i < d {
                        lo[i] = Swift.min(lo[i], k[i])
                        hi[i] = Swift.max(hi[i], k[i])
                        i += 1
                    }
                }
            }
        }
        coveredLength = n
    }

    /// Makes room for `pages` pages per head, keeping the bounds of the covered pages.
    private func grow(toPages pages: Int) {
        guard pages > pageCapacity else { return }
        let newCapacity = max(pages, pageCapacity * 2, 64)
        let d = headDim
        let newMins = UnsafeMutablePointer<Float>.allocate(capacity: kvHeads * newCapacity * d)
        let newMaxs = UnsafeMutablePointer<Float>.allocate(capacity: kvHeads * newCapacity * d)
        let kept = pageCount
        if kept > 0 {
            for g in 0..<kvHeads {
                (newMins + g * newCapacity * d).update(from: mins + g * pageCapacity * d, count: kept * d)
                (newMaxs + g * newCapacity * d).update(from: maxs + g * pageCapacity * d, count: kept * d)
            }
        }
        mins.deallocate()
        maxs.deallocate()
        mins = newMins
        maxs = newMaxs
        pageCapacity = newCapacity
    }
}
