// Kascade schedule: anchors and head maps (Deshmukh et al., arXiv 2512.16391, SPEC 2.2).
import Foundation

/// Which layers are anchors and how reuse layers map their KV heads onto the anchor's, plus the
/// budget; stored as JSON and taken by `generate`, `eval` and `bench`.
public struct KascadeSchedule: Codable, Sendable, Equatable {
    /// Layers of the model `L`.
    public var layers: Int
    /// KV heads per layer `G`.
    public var kvHeads: Int
    /// Anchor layers, ascending, starting with 0.
    public var anchors: [Int]
    /// `headMaps[j][g]`: the KV head of anchor `a(j)` whose indices KV head `g` of layer `j` reuses
    /// (`[L][G]`; identity for anchor layers).
    public var headMaps: [[Int]]
    /// Budget fraction in (0, 1].
    public var fraction: Double
    /// Prefill tile (queries per tile).
    public var tile: Int
    /// Floor on the keys kept.
    public var kMin: Int
    /// The model the schedule was calibrated on.
    public var modelID: String
    /// The development set it was calibrated on.
    public var devSetID: String

    /// A validated schedule.
    public init(layers: Int, kvHeads: Int, anchors: [Int], headMaps: [[Int]], fraction: Double = 0.10,
                tile: Int = 32, kMin: Int = 128, modelID: String, devSetID: String) throws(KascadeScheduleError) {
        self.layers = layers
        self.kvHeads = kvHeads
        self.anchors = anchors
        self.headMaps = headMaps
        self.fraction = fraction
        self.tile = tile
        self.kMin = kMin
        self.modelID = modelID
        self.devSetID = devSetID
        try validate()
    }

    /// `count` anchors spread evenly (layer 0 first), identity head maps: a schedule without calibration.
    public static func evenlySpaced(layers: Int, kvHeads: Int, anchors count: Int, fraction: Double = 0.10,
                                    tile: Int = 32, kMin: Int = 128, modelID: String = "uncalibrated",
                                    devSetID: String = "none") throws(KascadeScheduleError) -> KascadeSchedule {
        guard count >= 1, count <= layers else { throw .invalid("\(count) anchors for \(layers) layers") }
        let anchors = (0..<count).map { $0 * layers / count }
        let identity = Array(0..<max(kvHeads, 0))
        return try KascadeSchedule(layers: layers, kvHeads: kvHeads, anchors: anchors,
                                   headMaps: Array(repeating: identity, count: layers), fraction: fraction,
                                   tile: tile, kMin: kMin, modelID: modelID, devSetID: devSetID)
    }

    /// Throws unless anchors are ascending, in range and start at 0, head maps are `[L][G]` into `0 ..< G`
    /// (identity on anchors), and the budget and tile are valid.
    public func validate() throws(KascadeScheduleError) {
        guard layers > 0, kvHeads > 0 else { throw .invalid("layers \(layers) and KV heads \(kvHeads) must be positive") }
        guard anchors.first == 0 else { throw .invalid("layer 0 must be the first anchor, anchors are \(anchors)") }
        guard zip(anchors, anchors.dropFirst()).allSatisfy({ $0 < $1 }), anchors.last! < layers else {
            throw .invalid("anchors \(anchors) must be ascending and below \(layers)")
        }
        guard headMaps.count == layers else { throw .invalid("\(headMaps.count) head maps for \(layers) layers") }
        for (j, m) in headMaps.enumerated() {
            guard m.count == kvHeads, m.allSatisfy({ $0 >= 0 && $0 < kvHeads }) else {
                throw .invalid("head map of layer \(j) is \(m), expected \(kvHeads) heads in 0..<\(kvHeads)")
            }
            if anchors.contains(j), m != Array(0..<kvHeads) {
                throw .invalid("anchor layer \(j) has head map \(m); anchors use the identity")
            }
        }
        guard fraction.isFinite, fraction > 0, fraction <= 1 else { throw .invalid("budget fraction \(fraction) is outside (0, 1]") }
        guard tile > 0 else { throw .invalid("tile \(tile) must be positive") }
        guard kMin >= 0 else { throw .invalid("kMin \(kMin) must be >= 0") }
    }

    /// The budget `(fraction, kMin)`.
    public var budget: Budget { try! Budget(fraction: fraction, kMin: kMin) }

    /// Whether `layer` is an anchor.
    public func isAnchor(_ layer: Int) -> Bool { anchors.contains(layer) }

    /// The most recent anchor at or before `layer`.
    public func anchor(of layer: Int) -> Int { anchors.last { $0 <= layer } ?? 0 }

    /// Reads and validates a schedule from JSON.
    public static func load(path: String) throws(KascadeScheduleError) -> KascadeSchedule {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .io(path: path, reason: (error as NSError).localizedDescription)
        }
        let s: KascadeSchedule
        do { s = try JSONDecoder().decode(KascadeSchedule.self, from: data) } catch {
            throw .malformed(path: path, reason: String(describing: error).prefix(200).description)
        }
        try s.validate()
        return s
    }

    /// Pretty-printed JSON of the schedule.
    public func jsonData() -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try! e.encode(self)
    }

    /// Writes the schedule as JSON, atomically.
    public func save(path: String) throws(KascadeScheduleError) {
        do { try NPY.writeAtomically([UInt8](jsonData()), to: path) } catch {
            throw .io(path: path, reason: error.description)
        }
    }
}
