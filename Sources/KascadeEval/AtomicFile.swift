import Foundation

/// Writes whole output files atomically: to a temporary file beside the target, then renamed, so an
/// interrupted run never leaves a partial report.
public enum AtomicFile {
    /// Writes `text` to `path` atomically.
    public static func write(_ text: String, to path: String) throws(EvalError) {
        let tmp = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: tmp, contents: Data(text.utf8)) else {
            throw .io(path: path, reason: "cannot write")
        }
        guard rename(tmp, path) == 0 else {
            try? FileManager.default.removeItem(atPath: tmp)
            throw .io(path: path, reason: "cannot rename the temporary file into place")
        }
    }
}
