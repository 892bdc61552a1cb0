/// GPT-2's reversible map from the 256 byte values to printable Unicode scalars, used by byte-level BPE
/// (GPT-2, Llama 3, Qwen2): printable Latin-1 bytes map to themselves, the rest to U+0100 onwards.
enum ByteLevelAlphabet {
    /// `[256]` scalar for each byte.
    static let scalars: [Unicode.Scalar] = {
        var printable = Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF)
        var mapped = printable
        var next = 256
        for byte in 0..<256 where !printable.contains(byte) {
            printable.append(byte)
            mapped.append(next)
            next += 1
        }
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        for (byte, scalar) in zip(printable, mapped) {
            table[byte] = Unicode.Scalar(UInt32(scalar)) ?? " "  // safe: every value is below 0x144, a valid scalar
        }
        return table
    }()

    /// Byte for each alphabet scalar.
    static let bytes: [Unicode.Scalar: UInt8] = {
        var map: [Unicode.Scalar: UInt8] = [:]
        for (byte, scalar) in scalars.enumerated() { map[scalar] = UInt8(byte) }
        return map
    }()

    /// The alphabet string for the UTF-8 bytes of `text`.
    static func encode(_ text: Substring) -> String {
        var result = String.UnicodeScalarView()
        for byte in text.utf8 { result.append(scalars[Int(byte)]) }
        return String(result)
    }
}
