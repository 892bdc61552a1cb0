/// How a weight matrix's elements are held in memory.
public enum StorageFormat: String, Sendable, CaseIterable, Codable {
    /// IEEE binary32.
    case f32
    /// bfloat16: the top 16 bits of an f32 (8-bit exponent, 7-bit mantissa).
    case bf16
    /// IEEE binary16 (5-bit exponent, 10-bit mantissa).
    case f16

    /// Bytes per element.
    public var byteCount: Int {
        switch self {
        case .f32: 4
        case .bf16, .f16: 2
        }
    }
}
