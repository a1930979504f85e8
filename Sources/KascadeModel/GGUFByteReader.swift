/// Bounds-checked little-endian cursor over the header of a GGUF file.
struct GGUFByteReader {
    let base: UnsafeRawPointer
    let length: Int
    var offset: Int = 0

    init(base: UnsafeRawPointer, length: Int) {
        self.base = base
        self.length = length
    }

    /// Bytes left after the cursor.
    var remaining: Int { length - offset }

    mutating func need(_ n: Int) throws {
        guard n >= 0, n <= length - offset else { throw GGUFError.truncated(offset: offset, need: n, length: length) }
    }

    mutating func load<T: FixedWidthInteger>(_: T.Type) throws -> T {
        try need(MemoryLayout<T>.size)
        let v = T(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += MemoryLayout<T>.size
        return v
    }

    mutating func u8() throws -> UInt8 { try load(UInt8.self) }
    mutating func u32() throws -> UInt32 { try load(UInt32.self) }
    mutating func u64() throws -> UInt64 { try load(UInt64.self) }

    /// A count that must fit in `Int` and must not promise more than `remaining / minBytes` items.
    mutating func count(_ what: String, minBytesEach: Int) throws -> Int {
        let raw = try u64()
        guard let n = Int(exactly: raw), n <= remaining / max(minBytesEach, 1) else {
            throw GGUFError.badCount(what: what, value: raw)
        }
        return n
    }

    /// A GGUF string: u64 byte length, then UTF-8 bytes (invalid sequences are replaced).
    mutating func string(_ what: String) throws -> String {
        let raw = try u64()
        guard let n = Int(exactly: raw) else { throw GGUFError.badCount(what: "length of \(what)", value: raw) }
        guard n <= remaining else { throw GGUFError.truncated(offset: offset, need: n, length: length) }
        let bytes = UnsafeRawBufferPointer(start: base + offset, count: n)
        offset += n
        return String(decoding: bytes, as: UTF8.self)
    }
}
