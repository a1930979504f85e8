/// A ggml tensor element type, identified by its id in the GGUF file.
public struct GGMLType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The ggml type id.
    public let rawValue: UInt32
    /// Wraps a type id (known or not).
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let f32 = GGMLType(rawValue: 0)
    public static let f16 = GGMLType(rawValue: 1)
    public static let q4_0 = GGMLType(rawValue: 2)
    public static let q4_1 = GGMLType(rawValue: 3)
    public static let q5_0 = GGMLType(rawValue: 6)
    public static let q5_1 = GGMLType(rawValue: 7)
    public static let q8_0 = GGMLType(rawValue: 8)
    public static let q8_1 = GGMLType(rawValue: 9)
    public static let bf16 = GGMLType(rawValue: 30)

    /// (name, elements per block, bytes per block) of every ggml type id this reader can size.
    private static let table: [UInt32: (String, Int, Int)] = [
        0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20),
        6: ("Q5_0", 32, 22), 7: ("Q5_1", 32, 24), 8: ("Q8_0", 32, 34), 9: ("Q8_1", 32, 36),
        10: ("Q2_K", 256, 84), 11: ("Q3_K", 256, 110), 12: ("Q4_K", 256, 144), 13: ("Q5_K", 256, 176),
        14: ("Q6_K", 256, 210), 15: ("Q8_K", 256, 292), 16: ("IQ2_XXS", 256, 66), 17: ("IQ2_XS", 256, 74),
        18: ("IQ3_XXS", 256, 98), 19: ("IQ1_S", 256, 50), 20: ("IQ4_NL", 32, 18), 21: ("IQ3_S", 256, 110),
        22: ("IQ2_S", 256, 82), 23: ("IQ4_XS", 256, 136), 24: ("I8", 1, 1), 25: ("I16", 1, 2),
        26: ("I32", 1, 4), 27: ("I64", 1, 8), 28: ("F64", 1, 8), 29: ("IQ1_M", 256, 56),
        30: ("BF16", 1, 2), 34: ("TQ1_0", 256, 54), 35: ("TQ2_0", 256, 66), 39: ("MXFP4", 32, 17),
    ]

    /// Whether the reader knows this type's block layout.
    public var isKnown: Bool { GGMLType.table[rawValue] != nil }
    /// The ggml name (`Q4_1`), or `type<id>` when unknown.
    public var name: String { GGMLType.table[rawValue]?.0 ?? "type\(rawValue)" }
    /// Elements per quantisation block (1 for plain floats); 0 when unknown.
    public var blockElements: Int { GGMLType.table[rawValue]?.1 ?? 0 }
    /// Bytes per quantisation block; 0 when unknown.
    public var blockBytes: Int { GGMLType.table[rawValue]?.2 ?? 0 }
    /// Whether ``GGUFDequantizer`` can expand this type to float32.
    public var canDequantize: Bool { [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1].contains(self) }

    public var description: String { name }
}
