import ArgumentParser
import Foundation
import KascadeCore
import KascadeModel

/// `kascade calibrate`: chooses Kascade's anchor layers and head maps for a model by running it
/// densely over a development set (SPEC 2.2) and writes the schedule JSON and an SVG heatmap.
struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Calibrate a Kascade schedule (anchor layers, head maps) on a development set.",
        discussion: """
        Runs the model with dense attention over each development text (its first --max-tokens tokens:
        a prefill, then the last --decode-steps of them one token at a time), records the pooled
        post-softmax scores of every prefill tile and decode step with their top-k sets and the
        layer importances, and picks --anchors anchors (layer 0 forced) by dynamic programming.
        The default development set is five licence texts every Debian-based system ships
        (\(defaultTexts.map { ($0 as NSString).lastPathComponent }.joined(separator: ", "))), disjoint
        from the texts `kascade eval` uses.

        Example:
          kascade calibrate --anchors 5 --out schedule.json
          kascade generate --method kascade --schedule schedule.json --prompt "..."
        """
    )

    /// The development set used without --text.
    static let defaultTexts = ["GPL-2", "LGPL-2.1", "MPL-1.1", "MPL-2.0", "GFDL-1.2"].map { "/usr/share/common-licenses/" + $0 }

    @OptionGroup var modelFile: ModelFileOption

    @Option(help: "Anchor layers to choose, layer 0 included.")
    var anchors = 5

    @Option(help: "Budget fraction in (0, 1] whose top-k sets are compared, stored in the schedule.")
    var fraction = 0.10

    @Option(name: .customLong("k-min"), help: "Floor on the keys kept, stored in the schedule.")
    var kMin = 128

    @Option(help: "Prefill tile in tokens (a divisor of 64, the prefill chunk).")
    var tile = 32

    @Option(name: .customLong("text"), help: "A development text file (repeatable; default: five licence texts).")
    var texts: [String] = []

    @Option(help: "Tokens used from each text (its beginning).")
    var maxTokens = 2048

    @Option(help: "Tokens at the end of each text's window run as decode steps.")
    var decodeSteps = 32

    @Option(help: "Reduction of the head similarity over tiles and steps: mean or min.")
    var similarity: SimilarityAccumulator.Reduction = .mean

    @Option(help: "Schedule JSON to write.")
    var out = "kascade-schedule.json"

    @Option(help: "SVG heatmap to write (default: --out with the extension .svg).")
    var svg: String?

    @Flag(help: "Print a JSON summary instead of text.")
    var json = false

    func validate() throws {
        guard anchors >= 1 else { throw ValidationError("--anchors \(anchors) must be at least 1") }
        guard fraction > 0, fraction <= 1 else { throw ValidationError("--fraction \(fraction) must be in (0, 1]") }
        guard kMin >= 0 else { throw ValidationError("--k-min \(kMin) must be >= 0") }
        guard tile > 0, 64 % tile == 0 else { throw ValidationError("--tile \(tile) must divide 64") }
        guard decodeSteps >= 0 else { throw ValidationError("--decode-steps \(decodeSteps) must be >= 0") }
        guard maxTokens > decodeSteps + kMin else {
            throw ValidationError("--max-tokens \(maxTokens) must exceed --decode-steps plus --k-min (\(decodeSteps + kMin))")
        }
    }

    func run() throws {
        let log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        let loaded = try modelFile.open(log: log)
        let llama = loaded.llama, tokenizer = loaded.tokenizer
        let config = llama.config
        guard anchors <= config.layers else { throw CLIFailure("--anchors \(anchors) exceeds the model's \(config.layers) layers") }

        let files = texts.isEmpty ? Self.defaultTexts : texts
        var windows: [(name: String, tokens: [Int32])] = []
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CLIFailure("cannot read development text \(file)")
            }
            let tokens = Array(tokenizer.encode(String(decoding: data, as: UTF8.self), parseSpecial: false).prefix(min(maxTokens, config.contextLength)))
            guard tokens.count > decodeSteps + kMin else {
                throw CLIFailure("development text \(file) has \(tokens.count) tokens, fewer than --decode-steps plus --k-min (\(decodeSteps + kMin))")
            }
            windows.append(((file as NSString).lastPathComponent, tokens))
        }

        let budget = try Budget(fraction: fraction, kMin: kMin)
        let recorder = CalibrationRecorder(layers: config.layers, kvHeads: config.kvHeads, budget: budget, tile: tile)
        let session = try InferenceSession(model: llama, policy: recorder, maxContext: windows.map(\.tokens.count).max()!)
        session.observer = recorder
        let total = windows.reduce(0) { $0 + $1.tokens.count }
        let progress = ProgressBar(label: "calibrating", total: total)
        let start = Date()
        var done = 0
        for window in windows {
            session.reset()
            let prefillCount = window.tokens.count - decodeSteps
            _ = try session.prefill(Array(window.tokens[..<prefillCount])) { n, _ in progress.update(done + n) }
            done += prefillCount
            for token in window.tokens[prefillCount...] {
                try session.stepInPlace(token)
                done += 1
                progress.update(done)
            }
        }
        progress.finish()

        let devSetID = windows.map { "\($0.name):\($0.tokens.count)" }.joined(separator: ",")
            + " (decode steps \(decodeSteps), similarity \(similarity.rawValue))"
        let (schedule, score) = try recorder.schedule(anchors: anchors, modelID: llama.modelID, devSetID: devSetID,
                                                      reduction: similarity)
        let svgPath = svg ?? ((out as NSString).deletingPathExtension + ".svg")
        let sim = recorder.layerScores(similarity)
        try schedule.save(path: out)
        try SimilarityHeatmap.write(sim: sim, anchors: schedule.anchors,
                                    title: "Kascade layer similarity, \(llama.modelID)", to: svgPath)
        let seconds = Date().timeIntervalSince(start)

        if json {
            let summary: [String: Any] = [
                "schedule": out, "heatmap": svgPath, "anchors": schedule.anchors, "headMaps": schedule.headMaps,
                "score": score, "units": recorder.accumulator.units, "importance": recorder.accumulator.importance,
                "tokens": total, "seconds": seconds, "modelID": llama.modelID, "devSetID": devSetID,
            ]
            let data = try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
            FileHandle.standardOutput.write(data)
            print("")
        } else {
            print("model       \(llama.modelID)")
            print("dev set     \(devSetID)")
            print("recorded    \(recorder.accumulator.units) tiles and decode steps from \(total) tokens in \(String(format: "%.0f", seconds)) s")
            print("anchors     \(schedule.anchors.map(String.init).joined(separator: ", ")) (score \(String(format: "%.4f", score)))")
            print("importance  \(recorder.accumulator.importance.map { String(format: "%.3f", $0) }.joined(separator: " "))")
            print("wrote       \(out), \(svgPath)")
        }
    }
}

extension SimilarityAccumulator.Reduction: ExpressibleByArgument {}
