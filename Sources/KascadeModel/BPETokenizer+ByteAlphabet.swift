extension BPETokenizer {
    /// GPT-2's reversible map from the 256 byte values to printable Unicode scalars.
    ///
    /// Printable Latin-1 bytes (`!`...`~`, `¡`...`¬`, `®`...`ÿ`) map to themselves; the other 68
    /// bytes map, in increasing order, to U+0100, U+0101, ... so a space is `Ġ` and a newline `Ċ`.
    /// Byte-level vocabularies spell every token in this alphabet.
    enum ByteAlphabet {
        /// The scalar value standing for each byte, indexed by byte.
        static let scalarOfByte: [UInt32] = {
            var table = [UInt32](repeating: 0, count: 256)
            var next: UInt32 = 256
            for byte in 0 ..< 256 {
                if isPrintable(byte) {
                    table[byte] = UInt32(byte)
                } else {
                    table[byte] = next
                    next += 1
                }
            }
            return table
        }()

        /// The byte a scalar value stands for, indexed by scalar value (`-1`: none), for values below 324.
        static let byteOfScalar: [Int16] = {
            var table = [Int16](repeating: -1, count: 324)
            for (byte, scalar) in scalarOfByte.enumerated() { table[Int(scalar)] = Int16(byte) }
            return table
        }()

        /// The byte-alphabet spelling of `bytes`.
        static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
            var view = String.UnicodeScalarView()
            for byte in bytes { view.append(Unicode.Scalar(scalarOfByte[Int(byte)])!) }
            return String(view)
        }

        /// The bytes `text` spells in the byte alphabet, or nil when a scalar is outside it.
        static func decode(_ text: String) -> [UInt8]? {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(text.unicodeScalars.count)
            for scalar in text.unicodeScalars {
                guard scalar.value < 324 else { return nil }
                let byte = byteOfScalar[Int(scalar.value)]
                guard byte >= 0 else { return nil }
                bytes.append(UInt8(byte))
            }
            return bytes
        }

        private static func isPrintable(_ byte: Int) -> Bool {
            (0x21 ... 0x7E).contains(byte) || (0xA1 ... 0xAC).contains(byte) || (0xAE ... 0xFF).contains(byte)
        }
    }
}
