import Foundation
import Testing
import KascadeCore
@testable import KascadeModel

@Suite("kascade demo and calibrate", .serialized, .enabled(if: ModelCLI.available))
struct DemoCalibrateCommandTests {
    @Test("demo answers with every row; Kascade rows read fewer keys; kascade-decode shares the dense prefill")
    func demoRows() throws {
        let r = try ModelCLI.run(["demo", "--model", DefaultModel.path, "--tokens", "400", "--max-new-tokens", "8", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let rows = try #require(object["methods"] as? [[String: Any]])
        #expect(rows.map { $0["method"] as? String } == ["dense", "kascade-decode", "kascade"])
        let passkey = try #require(object["passkey"] as? String)
        #expect(passkey.count == 5)
        let prompt = try #require(object["promptTokens"] as? Int)
        #expect(abs(prompt - 400) < 40)
        func fraction(_ row: [String: Any], _ key: String) -> Double {
            let stats = row[key] as? [String: Any] ?? [:]
            return (stats["keysRead"] as? Double ?? -1) / (stats["denseKeys"] as? Double ?? 1)
        }
        #expect((rows[0]["answer"] as? String ?? "").contains(passkey), "dense answer: \(rows[0]["answer"] ?? "")")
        #expect(fraction(rows[0], "prefillKeys") == 1 && fraction(rows[0], "decodeKeys") == 1)
        #expect(fraction(rows[1], "prefillKeys") == 1 && fraction(rows[1], "decodeKeys") < 1)
        #expect(rows[1]["prefillSeconds"] as? Double == rows[0]["prefillSeconds"] as? Double)
        #expect(fraction(rows[2], "prefillKeys") < 1 && fraction(rows[2], "decodeKeys") < 1)
        let schedule = try #require(object["schedule"] as? [String: Any])
        #expect(schedule["anchors"] as? [Int] == ShippedSchedule.all.first?.anchors)
    }

    @Test("demo refuses a prompt longer than the context in one line")
    func demoTooLong() throws {
        let r = try ModelCLI.run(["demo", "--model", DefaultModel.path, "--tokens", "9000", "--methods", "dense"])
        #expect(r.code != 0)
        #expect(r.stderr.contains("context"), "\(r.stderr)")
        #expect(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count == 1)
    }

    @Test("calibrate writes a valid schedule and a heatmap for the requested anchors", arguments: [2, 3])
    func calibrate(anchors: Int) throws {
        let dir = NSTemporaryDirectory() + "kascade-calibrate-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try ModelCLI.run(["calibrate", "--model", DefaultModel.path, "--text", "/usr/share/common-licenses/MPL-2.0",
                                  "--max-tokens", "320", "--decode-steps", "4", "--anchors", "\(anchors)",
                                  "--out", dir + "/s.json", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        let schedule = try KascadeSchedule.load(path: dir + "/s.json")
        #expect(schedule.anchors.count == anchors && schedule.anchors.first == 0)
        #expect(schedule.layers == 30 && schedule.kvHeads == 3 && schedule.fraction == 0.10)
        #expect(schedule.devSetID.contains("MPL-2.0:320"))
        let svg = try String(contentsOfFile: dir + "/s.svg", encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.contains("anchors: " + schedule.anchors.map(String.init).joined(separator: ", ")))
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect((summary["units"] as? Int ?? 0) > 0)
    }

    @Test("calibrate names an unreadable text and writes nothing")
    func calibrateMissingText() throws {
        let dir = NSTemporaryDirectory() + "kascade-calibrate-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try ModelCLI.run(["calibrate", "--model", DefaultModel.path, "--text", dir + "/absent.txt", "--out", dir + "/s.json"])
        #expect(r.code != 0)
        #expect(r.stderr.contains("absent.txt"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }
}
