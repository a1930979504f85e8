import Foundation
import KascadeCore

/// Kascade schedules calibrated for known models and compiled into the package.
///
/// The JSON files live in `Sources/KascadeModel/Resources`; `kascade calibrate` regenerates them
/// (the README has the command).
public enum ShippedSchedule {
    /// The JSON text of every shipped schedule.
    static var sources: [[UInt8]] { [PackageResources.SmolLM2_135M_Instruct_Q4_1_schedule_json] }

    /// Every shipped schedule that decodes and validates.
    public static var all: [KascadeSchedule] {
        sources.compactMap { bytes in
            guard let s = try? JSONDecoder().decode(KascadeSchedule.self, from: Data(bytes)), (try? s.validate()) != nil else { return nil }
            return s
        }
    }

    /// The shipped schedule calibrated on the model `modelID` (``LlamaModel/modelID``), if any.
    public static func schedule(for modelID: String) -> KascadeSchedule? {
        all.first { $0.modelID == modelID }
    }
}
