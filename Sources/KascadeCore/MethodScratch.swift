/// Growable scratch memory of one sparse method: grown (never shrunk) only when a call needs more
/// than it holds, so once the context stops growing the hot loops allocate nothing.
///
/// Holds trivial element types only (`Float`, `Int32`, `UInt8`, `Double`); the contents are
/// uninitialised scratch and do not survive a growth.
final class MethodScratch<Element> {
    /// Start of the memory, valid for `capacity` elements.
    private(set) var pointer: UnsafeMutablePointer<Element>
    /// Elements the memory holds.
    private(set) var capacity: Int

    init() {
        capacity = 0
        pointer = .allocate(capacity: 1)
    }

    /// At least `count` elements of scratch; reallocates (with headroom) only when `count` exceeds the capacity.
    func reserve(_ count: Int) -> UnsafeMutablePointer<Element> {
        if count > capacity {
            pointer.deallocate()
            capacity = max(count, capacity + capacity / 2)
            pointer = .allocate(capacity: capacity)
        }
        return pointer
    }

    deinit { pointer.deallocate() }
}
