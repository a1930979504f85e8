/// A GGUF file (version 2 or 3), memory-mapped and validated: metadata, tensor infos and tensor data.
///
/// Every count, offset and size is checked against the file length before it is read; tensor data
/// stays in the mapping and is read in place (see ``tensorBytes(_:)``).
public final class GGUFFile: @unchecked Sendable {
    /// Arrays nested deeper than this are rejected as corrupt.
    public static let maxNesting = 8

    /// The mapped bytes; tensor data points into them.
    public let storage: MappedBytes
    /// File path (`"<memory>"` for in-memory data).
    public let path: String
    /// Format version (2 or 3).
    public let version: Int
    /// Metadata by key.
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    /// Tensor infos in file order.
    public let tensors: [GGUFTensorInfo]
    /// `general.alignment`, 32 when absent.
    public let alignment: Int
    /// Absolute offset of the tensor data section.
    public let dataOffset: Int
    private let tensorIndex: [String: Int]

    /// Maps and validates the file at `path`; throws ``GGUFError``.
    public convenience init(path: String) throws {
        try self.init(storage: MappedBytes(path: path), path: path)
    }

    /// Parses GGUF bytes held in memory (copied); throws ``GGUFError``.
    public convenience init(bytes: [UInt8]) throws {
        let storage = bytes.withUnsafeBytes { MappedBytes(copying: $0) }
        try self.init(storage: storage, path: "<memory>")
    }

    /// Parses already-mapped bytes.
    public init(storage: MappedBytes, path: String) throws {
        self.storage = storage
        self.path = path
        var r = GGUFByteReader(base: storage.base, length: storage.count)
        let magic = try r.u32()
        guard magic == 0x4655_4747 else { throw GGUFError.badMagic(magic) }
        let version = try r.u32()
        guard version == 2 || version == 3 else { throw GGUFError.unsupportedVersion(version) }
        self.version = Int(version)
        // A tensor info takes at least 8 (name) + 4 (dims) + 4 (type) + 8 (offset) bytes; a pair 8 + 4 + 1.
        let tensorCount = try r.count("tensor count", minBytesEach: 24)
        let kvCount = try r.count("metadata count", minBytesEach: 13)

        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        keys.reserveCapacity(kvCount)
        for _ in 0..<kvCount {
            let key = try r.string("metadata key")
            let type = try r.u32()
            let value = try GGUFFile.readValue(&r, type: type, key: key, depth: 0)
            guard metadata.updateValue(value, forKey: key) == nil else { throw GGUFError.duplicateKey(key) }
            keys.append(key)
        }
        self.metadata = metadata
        self.metadataKeys = keys

        var alignment = 32
        if let a = metadata["general.alignment"] {
            guard let n = a.intValue, n > 0, n & (n - 1) == 0, n <= 1 << 20 else {
                throw GGUFError.badAlignment(a.summary())
            }
            alignment = n
        }
        self.alignment = alignment

        struct Raw { let name: String; let dims: [UInt64]; let type: GGMLType; let offset: UInt64 }
        var raws: [Raw] = []
        raws.reserveCapacity(tensorCount)
        for _ in 0..<tensorCount {
            let name = try r.string("tensor name")
            let nDims = try r.u32()
            guard nDims >= 1, nDims <= 4 else { throw GGUFError.badTensorShape(tensor: name, shape: [UInt64(nDims)]) }
            var dims: [UInt64] = []
            for _ in 0..<nDims { dims.append(try r.u64()) }
            let type = GGMLType(rawValue: try r.u32())
            let offset = try r.u64()
            raws.append(Raw(name: name, dims: dims, type: type, offset: offset))
        }
        let headerEnd = r.offset
        let (padded, overflow) = headerEnd.addingReportingOverflow((alignment - headerEnd % alignment) % alignment)
        guard !overflow else { throw GGUFError.badCount(what: "header end", value: UInt64(headerEnd)) }
        self.dataOffset = padded

        var infos: [GGUFTensorInfo] = []
        var index: [String: Int] = [:]
        infos.reserveCapacity(raws.count)
        for raw in raws {
            let info = try GGUFFile.validate(name: raw.name, dims: raw.dims, type: raw.type, offset: raw.offset,
                                            dataOffset: padded, alignment: alignment, length: storage.count)
            guard index.updateValue(infos.count, forKey: raw.name) == nil else { throw GGUFError.duplicateTensor(raw.name) }
            infos.append(info)
        }
        self.tensors = infos
        self.tensorIndex = index
    }

    private static func validate(name: String, dims: [UInt64], type: GGMLType, offset: UInt64,
                                 dataOffset: Int, alignment: Int, length: Int) throws -> GGUFTensorInfo {
        guard type.isKnown else { throw GGUFError.unknownTensorType(tensor: name, type: type.rawValue) }
        var shape: [Int] = []
        var elements = 1
        for d in dims {
            guard let n = Int(exactly: d), n > 0 else { throw GGUFError.badTensorShape(tensor: name, shape: dims) }
            let (p, o) = elements.multipliedReportingOverflow(by: n)
            guard !o, p <= Int(Int32.max) * 64 else { throw GGUFError.badTensorShape(tensor: name, shape: dims) }
            elements = p
            shape.append(n)
        }
        guard shape[0] % type.blockElements == 0 else { throw GGUFError.badTensorShape(tensor: name, shape: dims) }
        let bytes = elements / type.blockElements * type.blockBytes
        guard offset % UInt64(alignment) == 0 else {
            throw GGUFError.misalignedTensor(tensor: name, offset: offset, alignment: alignment)
        }
        guard let rel = Int(exactly: offset) else { throw GGUFError.badCount(what: "offset of tensor \(name)", value: offset) }
        let (start, o1) = dataOffset.addingReportingOverflow(rel)
        let (end, o2) = start.addingReportingOverflow(bytes)
        guard !o1, !o2, end <= length else {
            throw GGUFError.tensorOutOfBounds(tensor: name, offset: o1 ? Int.max : start, bytes: bytes, length: length)
        }
        return GGUFTensorInfo(name: name, shape: shape, type: type, fileOffset: start, byteCount: bytes)
    }

    private static func minBytes(ofType type: UInt32) -> Int {
        switch type {
        case 0, 1, 7: return 1
        case 2, 3: return 2
        case 4, 5, 6: return 4
        case 8, 10, 11, 12: return 8
        case 9: return 12
        default: return 1
        }
    }

    private static func readValue(_ r: inout GGUFByteReader, type: UInt32, key: String, depth: Int) throws -> GGUFValue {
        switch type {
        case 0: return .uint8(try r.u8())
        case 1: return .int8(Int8(bitPattern: try r.u8()))
        case 2: return .uint16(try r.load(UInt16.self))
        case 3: return .int16(try r.load(Int16.self))
        case 4: return .uint32(try r.u32())
        case 5: return .int32(try r.load(Int32.self))
        case 6: return .float32(Float(bitPattern: try r.u32()))
        case 7:
            let b = try r.u8()
            guard b <= 1 else { throw GGUFError.badCount(what: "bool value of '\(key)'", value: UInt64(b)) }
            return .bool(b == 1)
        case 8: return .string(try r.string("value of '\(key)'"))
        case 9:
            guard depth < maxNesting else { throw GGUFError.nestingTooDeep(key: key, depth: depth + 1) }
            let elementType = try r.u32()
            guard elementType <= 12 else { throw GGUFError.badValueType(key: key, type: elementType) }
            let n = try r.count("length of array '\(key)'", minBytesEach: minBytes(ofType: elementType))
            var items: [GGUFValue] = []
            items.reserveCapacity(n)
            for _ in 0..<n { items.append(try readValue(&r, type: elementType, key: key, depth: depth + 1)) }
            return .array(items)
        case 10: return .uint64(try r.u64())
        case 11: return .int64(try r.load(Int64.self))
        case 12: return .float64(Double(bitPattern: try r.u64()))
        default: throw GGUFError.badValueType(key: key, type: type)
        }
    }

    /// The tensor named `name`, if present.
    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The tensor named `name`, or ``GGUFError/missingTensor(_:)``.
    public func requireTensor(_ name: String) throws -> GGUFTensorInfo {
        guard let t = tensor(named: name) else { throw GGUFError.missingTensor(name) }
        return t
    }

    /// The tensor's bytes inside the mapping; valid while this file object lives.
    public func tensorBytes(_ t: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: storage.base + t.fileOffset, count: t.byteCount)
    }

    /// The whole tensor as float32 in ggml order; throws for types that cannot be dequantised.
    public func dequantize(_ t: GGUFTensorInfo) throws -> [Float] {
        try GGUFDequantizer.check(t)
        var out = [Float](repeating: 0, count: t.elementCount)
        out.withUnsafeMutableBufferPointer { o in
            GGUFDequantizer.dequantize(type: t.type, from: storage.base + t.fileOffset, count: t.elementCount, into: o.baseAddress!)
        }
        return out
    }

    // MARK: convenience getters

    /// A string value.
    public func string(_ key: String) -> String? { metadata[key]?.stringValue }
    /// An integer value that fits in `Int`.
    public func int(_ key: String) -> Int? { metadata[key]?.intValue }
    /// A numeric value as `Double`.
    public func double(_ key: String) -> Double? { metadata[key]?.doubleValue }
    /// An array of strings (nil when any element is not a string).
    public func stringArray(_ key: String) -> [String]? {
        guard let a = metadata[key]?.arrayValue else { return nil }
        var out: [String] = []
        out.reserveCapacity(a.count)
        for v in a { guard let s = v.stringValue else { return nil }; out.append(s) }
        return out
    }
    /// An array of integers (nil when any element is not an integer fitting in `Int`).
    public func intArray(_ key: String) -> [Int]? {
        guard let a = metadata[key]?.arrayValue else { return nil }
        var out: [Int] = []
        out.reserveCapacity(a.count)
        for v in a { guard let n = v.intValue else { return nil }; out.append(n) }
        return out
    }
    /// An array of numbers as `Float` (nil when any element is not numeric).
    public func floatArray(_ key: String) -> [Float]? {
        guard let a = metadata[key]?.arrayValue else { return nil }
        var out: [Float] = []
        out.reserveCapacity(a.count)
        for v in a { guard let d = v.doubleValue else { return nil }; out.append(Float(d)) }
        return out
    }
}
