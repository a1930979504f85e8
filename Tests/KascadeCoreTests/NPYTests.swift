import Foundation
import Testing
@testable import KascadeCore

@Suite("NPY files")
struct NPYTests {
    static func tempPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("npytest-\(UInt32.random(in: 0...UInt32.max))-\(name)").path
    }

    @Test("float32 tensors round-trip through a file", arguments: [[0], [5], [2, 3], [1, 3, 4, 8], [2, 1, 33, 7]])
    func floatRoundTrip(shape: [Int]) throws {
        let n = shape.reduce(1, *)
        let t = try HostTensor(shape: shape, scalars: (0..<n).map { _ in Float.random(in: -100...100) })
        let path = Self.tempPath("f.npy")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try NPY.write(t, to: path)
        #expect(try NPY.readFloat(path: path) == t)
    }

    @Test("int32 tensors round-trip through a file", arguments: [[3], [2, 2, 5, 4]])
    func intRoundTrip(shape: [Int]) throws {
        let n = shape.reduce(1, *)
        let t = try HostTensor(shape: shape, scalars: (0..<n).map { _ in Int32.random(in: Int32.min...Int32.max) })
        let path = Self.tempPath("i.npy")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try NPY.write(t, to: path)
        #expect(try NPY.readInt32(path: path) == t)
    }

    @Test("the header is padded to a multiple of 64 bytes and ends in a newline")
    func headerAlignment() throws {
        for rank in 1...5 {
            let bytes = NPY.header(descr: "<f4", shape: [Int](repeating: 3, count: rank))
            #expect(bytes.count % 64 == 0)
            #expect(bytes.last == 0x0A)
        }
    }

    @Test("float16 is widened exactly, with subnormals, infinity and NaN")
    func float16() throws {
        let cases: [(UInt16, Float)] = [(0x3C00, 1), (0xC000, -2), (0x0001, 0x1p-24), (0x7BFF, 65504),
                                        (0x7C00, .infinity), (0x0000, 0), (0x3555, 0.333251953125), (0x03FF, 0x3FFp-24)]
        var bytes = Self.rawHeader("{'descr': '<f2', 'fortran_order': False, 'shape': (\(cases.count + 1),), }")
        for (h, _) in cases { bytes.append(UInt8(h & 0xFF)); bytes.append(UInt8(h >> 8)) }
        bytes.append(0x01); bytes.append(0x7E)  // NaN
        guard case .float32(let t) = try NPY.decode(bytes) else { Issue.record("not float"); return }
        #expect(Array(t.scalars.prefix(cases.count)) == cases.map { $0.1 })
        #expect(t.scalars.last!.isNaN)
    }

    static func rawHeader(_ dict: String, major: UInt8 = 1) -> [UInt8] {
        var out: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, major, 0]
        let n = dict.utf8.count
        out.append(UInt8(n & 0xFF)); out.append(UInt8(n >> 8))
        if major > 1 { out.append(0); out.append(0) }
        out.append(contentsOf: Array(dict.utf8))
        return out
    }

    @Test("version 2 headers are read")
    func version2() throws {
        var bytes = Self.rawHeader("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }\n", major: 2)
        bytes += [7, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]
        #expect(try NPY.decode(bytes) == .int32(try HostTensor(shape: [2], scalars: [7, -1])))
    }

    @Test("malformed files give typed errors carrying the bad value")
    func malformed() throws {
        let good = NPY.encode(try HostTensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]))
        #expect(throws: NPYError.truncated(expected: good.count, actual: good.count - 5)) { try NPY.decode(Array(good.dropLast(5))) }
        #expect(throws: NPYError.truncated(expected: 10, actual: 7)) { try NPY.decode(Array(good.prefix(7))) }
        #expect(throws: NPYError.trailingBytes(1)) { try NPY.decode(good + [0]) }
        #expect(throws: NPYError.badMagic) { try NPY.decode([0x50, 0x4B, 3, 4] + Array(good.dropFirst(4))) }
        #expect(throws: NPYError.unsupportedVersion(major: 9)) {
            var b = good; b[6] = 9; try NPY.decode(b)
        }
        #expect(throws: NPYError.fortranOrder) {
            try NPY.decode(Self.rawHeader("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }") + [0, 0, 0, 0])
        }
        #expect(throws: NPYError.unsupportedDType("<f8")) {
            try NPY.decode(Self.rawHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }") + [UInt8](repeating: 0, count: 8))
        }
        #expect(throws: NPYError.unsupportedDType(">f4")) {
            try NPY.decode(Self.rawHeader("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }") + [0, 0, 0, 0])
        }
        #expect(throws: NPYError.self) { try NPY.decode(Self.rawHeader("{'descr': '<f4', 'shape': (1,), }") + [0, 0, 0, 0]) }
        #expect(throws: NPYError.self) { try NPY.decode(Self.rawHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (x,), }")) }
        #expect(throws: NPYError.wrongDType(found: "<i4", expected: "float32 or float16")) {
            let p = Self.tempPath("w.npy")
            defer { try? FileManager.default.removeItem(atPath: p) }
            try NPY.write(try HostTensor<Int32>(shape: [1], scalars: [1]), to: p)
            _ = try NPY.readFloat(path: p)
        }
    }

    @Test("a failed write leaves no file behind")
    func failedWrite() throws {
        let path = "/nonexistent-folder-\(UInt32.random(in: 0...UInt32.max))/o.npy"
        #expect(throws: NPYError.self) { try NPY.write(try HostTensor<Float>(shape: [1], scalars: [1]), to: path) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
