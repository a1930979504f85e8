import Foundation

/// A decoded `.npy` array: float data (float32 or float16 widened to float32) or int32.
public enum NPYArray: Sendable, Equatable {
    case float32(HostTensor<Float>)
    case int32(HostTensor<Int32>)

    /// The shape of the array.
    public var shape: [Int] {
        switch self {
        case .float32(let t): return t.shape
        case .int32(let t): return t.shape
        }
    }
}

/// NumPy `.npy` reading and writing (format versions 1–3, C order, little-endian
/// float32 / float16 / int32). Writes go to a temporary file in the same folder, then a rename, so a
/// failed write never leaves a partial file.
public enum NPY {
    /// Reads a `.npy` file; float16 is widened to float32.
    public static func read(path: String) throws(NPYError) -> NPYArray {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .io(path: path, reason: (error as NSError).localizedDescription)
        }
        return try decode([UInt8](data))
    }

    /// Reads a float32 or float16 `.npy` file as float32.
    public static func readFloat(path: String) throws(NPYError) -> HostTensor<Float> {
        switch try read(path: path) {
        case .float32(let t): return t
        case .int32: throw .wrongDType(found: "<i4", expected: "float32 or float16")
        }
    }

    /// Reads an int32 `.npy` file.
    public static func readInt32(path: String) throws(NPYError) -> HostTensor<Int32> {
        switch try read(path: path) {
        case .int32(let t): return t
        case .float32: throw .wrongDType(found: "float", expected: "int32")
        }
    }

    /// Decodes the bytes of a `.npy` file.
    public static func decode(_ bytes: [UInt8]) throws(NPYError) -> NPYArray {
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard bytes.count >= 10 else {
            if bytes.count >= 6, Array(bytes[0..<6]) != magic { throw .badMagic }
            throw .truncated(expected: 10, actual: bytes.count)
        }
        guard Array(bytes[0..<6]) == magic else { throw .badMagic }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw .truncated(expected: 12, actual: bytes.count) }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw .unsupportedVersion(major: major)
        }
        let dataStart = headerStart + headerLength
        guard bytes.count >= dataStart else { throw .truncated(expected: dataStart, actual: bytes.count) }
        guard let header = String(bytes: bytes[headerStart..<dataStart], encoding: major == 3 ? .utf8 : .isoLatin1) else {
            throw .malformedHeader("header is not text")
        }
        let (descr, fortran, shape) = try parseHeader(header)
        if fortran { throw .fortranOrder }
        let width: Int
        switch descr {
        case "<f4", "<i4": width = 4
        case "<f2": width = 2
        default: throw .unsupportedDType(descr)
        }
        var count = 1
        for n in shape {
            let (p, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow, p <= Int(Int32.max) * 16 else { throw .malformedHeader("shape \(shape) is too large") }
            count = p
        }
        let need = dataStart + count * width
        guard bytes.count >= need else { throw .truncated(expected: need, actual: bytes.count) }
        guard bytes.count == need else { throw .trailingBytes(bytes.count - need) }
        return bytes.withUnsafeBytes { raw -> NPYArray in
            let base = raw.baseAddress! + dataStart
            switch descr {
            case "<f4":
                let s = (0..<count).map { Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
                return .float32(try! HostTensor(shape: shape, scalars: s))
            case "<i4":
                let s = (0..<count).map { Int32(littleEndian: base.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) }
                return .int32(try! HostTensor(shape: shape, scalars: s))
            default:
                let s = (0..<count).map { halfToFloat(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) }
                return .float32(try! HostTensor(shape: shape, scalars: s))
            }
        }
    }

    /// Encodes a float32 tensor as `.npy` (version 1) bytes.
    public static func encode(_ tensor: HostTensor<Float>) -> [UInt8] {
        var out = header(descr: "<f4", shape: tensor.shape)
        out.reserveCapacity(out.count + tensor.count * 4)
        for x in tensor.scalars { appendLE(&out, x.bitPattern) }
        return out
    }

    /// Encodes an int32 tensor as `.npy` (version 1) bytes.
    public static func encode(_ tensor: HostTensor<Int32>) -> [UInt8] {
        var out = header(descr: "<i4", shape: tensor.shape)
        out.reserveCapacity(out.count + tensor.count * 4)
        for x in tensor.scalars { appendLE(&out, UInt32(bitPattern: x)) }
        return out
    }

    /// Writes a float32 tensor to `path` atomically.
    public static func write(_ tensor: HostTensor<Float>, to path: String) throws(NPYError) {
        try writeAtomically(encode(tensor), to: path)
    }

    /// Writes an int32 tensor to `path` atomically.
    public static func write(_ tensor: HostTensor<Int32>, to path: String) throws(NPYError) {
        try writeAtomically(encode(tensor), to: path)
    }

    /// Writes `bytes` to a temporary file beside `path`, then renames it over `path`.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws(NPYError) {
        let url = URL(fileURLWithPath: path)
        let temp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try Data(bytes).write(to: temp)
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw .io(path: path, reason: (error as NSError).localizedDescription)
        }
        if rename(temp.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temp)
            throw .io(path: path, reason: reason)
        }
    }

    /// IEEE half-precision bits to float32 (subnormals, infinities and NaN included).
    @inlinable public static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exp = Int(h >> 10) & 0x1F
        let mant = UInt32(h & 0x03FF)
        if exp == 0 {
            let v = Float(mant) * 0x1p-24
            return sign != 0 ? -v : v
        }
        if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
        return Float(bitPattern: sign | UInt32(exp + 112) << 23 | (mant << 13))
    }

    // MARK: - Header

    static func header(descr: String, shape: [Int]) -> [UInt8] {
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(dims), }"
        let unpadded = 10 + dict.utf8.count + 1
        dict += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0]
        let n = dict.utf8.count
        out.append(UInt8(n & 0xFF)); out.append(UInt8(n >> 8))
        out.append(contentsOf: Array(dict.utf8))
        return out
    }

    static func appendLE(_ out: inout [UInt8], _ x: UInt32) {
        out.append(UInt8(x & 0xFF)); out.append(UInt8((x >> 8) & 0xFF))
        out.append(UInt8((x >> 16) & 0xFF)); out.append(UInt8(x >> 24))
    }

    /// Parses `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
    static func parseHeader(_ text: String) throws(NPYError) -> (String, Bool, [Int]) {
        let h = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard h.hasPrefix("{"), h.hasSuffix("}") else { throw .malformedHeader(String(h.prefix(80))) }
        func value(after key: String) throws(NPYError) -> Substring {
            guard let r = h.range(of: "'\(key)'") ?? h.range(of: "\"\(key)\"") else {
                throw .malformedHeader("missing key '\(key)' in \(h)")
            }
            var rest = h[r.upperBound...].drop { $0 == " " }
            guard rest.first == ":" else { throw .malformedHeader("no ':' after '\(key)' in \(h)") }
            rest = rest.dropFirst().drop { $0 == " " }
            return rest
        }
        let d = try value(after: "descr")
        guard let q = d.first, q == "'" || q == "\"", let end = d.dropFirst().firstIndex(of: q) else {
            throw .malformedHeader("descr is not a string in \(h)")
        }
        let descr = String(d[d.index(after: d.startIndex)..<end])
        let f = try value(after: "fortran_order")
        let fortran: Bool
        if f.hasPrefix("False") { fortran = false } else if f.hasPrefix("True") { fortran = true } else {
            throw .malformedHeader("fortran_order is not True/False in \(h)")
        }
        let s = try value(after: "shape")
        guard s.first == "(", let close = s.firstIndex(of: ")") else { throw .malformedHeader("shape is not a tuple in \(h)") }
        var shape: [Int] = []
        for part in s[s.index(after: s.startIndex)..<close].split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            guard let n = Int(t), n >= 0 else { throw .malformedHeader("bad shape entry '\(t)' in \(h)") }
            shape.append(n)
        }
        return (descr, fortran, shape)
    }
}
