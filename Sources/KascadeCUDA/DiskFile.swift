#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads and atomic writes through the C library.
enum DiskFile {
    /// Contents of `path`, or nil.
    static func read(_ path: String) -> [UInt8]? {
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        fseek(f, 0, SEEK_END)
        let n = ftell(f)
        guard n > 0 else { return nil }
        fseek(f, 0, SEEK_SET)
        var bytes = [UInt8](repeating: 0, count: n)
        let got = bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, n, f) }
        return got == n ? bytes : nil
    }

    /// Writes `bytes` to a temporary file beside `path` and renames it into place; false on failure.
    @discardableResult
    static func writeAtomically(_ path: String, _ bytes: [UInt8]) -> Bool {
        let tmp = "\(path).tmp\(getpid())"
        guard let f = fopen(tmp, "wb") else { return false }
        let put = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, bytes.count, f) }
        let closed = fclose(f) == 0
        guard put == bytes.count, closed else { unlink(tmp); return false }
        return rename(tmp, path) == 0
    }
}
