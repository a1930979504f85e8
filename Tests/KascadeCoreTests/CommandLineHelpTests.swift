import Foundation
import Testing

@Suite("kascade command line")
struct CommandLineHelpTests {
    static let subcommands = ["attend", "bench", "bench-cuda", "calibrate", "check", "demo", "eval", "generate", "inspect", "score"]

    @Test("lists every subcommand in its help")
    func listsSubcommands() throws {
        let r = try KascadeBinary.run(KascadeBinary.url, ["--help"])
        #expect(r.code == 0)
        for name in Self.subcommands {
            #expect(r.stdout.contains(name), "kascade --help does not list \(name)")
        }
    }

    @Test("every subcommand's options parse: --help exits 0 with an example", arguments: subcommands)
    func helpParses(name: String) throws {
        let r = try KascadeBinary.run(KascadeBinary.url, [name, "--help"])
        #expect(r.code == 0, "kascade \(name) --help failed: \(r.stdout.prefix(300)) \(r.stderr.prefix(300))")
        #expect(!r.stdout.contains("Validation failed"))
        #expect(r.stdout.lowercased().contains("example"), "kascade \(name) --help shows no example")
    }

    @Test("GPU bench options are checked before the GPU is opened: one line, exit 64",
          arguments: [["--peer-inputs", "foo"], ["--prefill-lengths", "abc"], ["--batches", "0"], ["--variants", "zz"]])
    func benchCudaOptions(args: [String]) throws {
        let r = try KascadeBinary.run(KascadeBinary.url, ["bench-cuda"] + args)
        #expect(r.code == 64, "exit \(r.code): \(r.stderr)")
        let first = r.stderr.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.hasPrefix("Error: --"), "\(r.stderr)")
        #expect(!r.stderr.contains("CUDA unavailable"))
    }
}
