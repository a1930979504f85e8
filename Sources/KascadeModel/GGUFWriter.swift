/// Builds GGUF (version 3) files in memory: metadata in insertion order, tensors with raw data.
///
/// Used to write small synthetic models and to build test inputs; tensor data is placed at
/// `alignment`-aligned offsets (``GGUFFile`` reads the result back).
public struct GGUFWriter {
    private var kv: [(String, GGUFValue)] = []
    private var tensors: [(name: String, shape: [Int], type: GGMLType, data: [UInt8])] = []
    /// Alignment of tensor data (also written as `general.alignment` when not 32).
    public var alignment: Int

    /// An empty file with the given data alignment (a power of two).
    public init(alignment: Int = 32) { self.alignment = alignment }

    /// Adds a metadata pair.
    public mutating func set(_ key: String, _ value: GGUFValue) { kv.append((key, value)) }

    /// Adds a tensor; `shape` in ggml order, `data` its encoded bytes (size must match the type).
    public mutating func addTensor(_ name: String, shape: [Int], type: GGMLType, data: [UInt8]) {
        precondition(type.isKnown && shape[0] % type.blockElements == 0, "bad tensor \(name)")
        precondition(data.count == shape.reduce(1, *) / type.blockElements * type.blockBytes, "tensor \(name): \(data.count) bytes do not match \(shape) \(type)")
        tensors.append((name, shape, type, data))
    }

    /// Adds a float32 tensor encoded as `type` (F32, F16, BF16, Q8_0, Q4_0 or Q4_1).
    public mutating func addTensor(_ name: String, shape: [Int], type: GGMLType, values: [Float]) {
        addTensor(name, shape: shape, type: type, data: GGUFQuantizer.encode(values, as: type))
    }

    /// The file's bytes.
    public func bytes() -> [UInt8] {
        var out: [UInt8] = []
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func str(_ s: String) { u64(UInt64(s.utf8.count)); out.append(contentsOf: s.utf8) }
        func typeID(_ v: GGUFValue) -> UInt32 {
            switch v {
            case .uint8: return 0
            case .int8: return 1
            case .uint16: return 2
            case .int16: return 3
            case .uint32: return 4
            case .int32: return 5
            case .float32: return 6
            case .bool: return 7
            case .string: return 8
            case .array: return 9
            case .uint64: return 10
            case .int64: return 11
            case .float64: return 12
            }
        }
        func value(_ v: GGUFValue) {
            switch v {
            case .uint8(let x): out.append(x)
            case .int8(let x): out.append(UInt8(bitPattern: x))
            case .uint16(let x): withUnsafeBytes(of: x.littleEndian) { out.append(contentsOf: $0) }
            case .int16(let x): withUnsafeBytes(of: x.littleEndian) { out.append(contentsOf: $0) }
            case .uint32(let x): u32(x)
            case .int32(let x): u32(UInt32(bitPattern: x))
            case .float32(let x): u32(x.bitPattern)
            case .bool(let x): out.append(x ? 1 : 0)
            case .string(let s): str(s)
            case .array(let a):
                u32(a.first.map(typeID) ?? 0)
                u64(UInt64(a.count))
                for e in a { value(e) }
            case .uint64(let x): u64(x)
            case .int64(let x): u64(UInt64(bitPattern: x))
            case .float64(let x): u64(x.bitPattern)
            }
        }
        var pairs = kv
        if alignment != 32 && !pairs.contains(where: { $0.0 == "general.alignment" }) {
            pairs.append(("general.alignment", .uint32(UInt32(alignment))))
        }
        u32(0x4655_4747)
        u32(3)
        u64(UInt64(tensors.count))
        u64(UInt64(pairs.count))
        for (k, v) in pairs { str(k); u32(typeID(v)); value(v) }
        var offset = 0
        var offsets: [Int] = []
        for t in tensors {
            offsets.append(offset)
            offset += (t.data.count + alignment - 1) / alignment * alignment
        }
        for (t, off) in zip(tensors, offsets) {
            str(t.name)
            u32(UInt32(t.shape.count))
            for d in t.shape { u64(UInt64(d)) }
            u32(t.type.rawValue)
            u64(UInt64(off))
        }
        while out.count % alignment != 0 { out.append(0) }
        for t in tensors {
            out.append(contentsOf: t.data)
            while out.count % alignment != 0 { out.append(0) }
        }
        return out
    }
}
