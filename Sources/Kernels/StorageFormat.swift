/// How a weight matrix's elements are held in memory.
public enum StorageFormat: String, Sendable, CaseIterable, Codable {
    /// IEEE binary32.
    case f32
    /// bfloat16: the top 16 bits of an f32 (8-bit exponent, 7-bit mantissa).
    case bf16
    /// IEEE binary16 (5-bit exponent, 10-bit mantissa).
    case f16
    /// Blocks of 32 int8 values with one f16 scale (34 bytes, like GGUF Q8_0).
    case q8
    /// Blocks of 32 4-bit values with one f16 scale (18 bytes, like GGUF Q4_0).
    case q4

    /// Bytes per element of the element-wise formats (f32, bf16, f16); nil for the block formats, whose
    /// sizes are per row (`rowBytes(columns:)`).
    public var byteCount: Int? {
        switch self {
        case .f32: 4
        case .bf16, .f16: 2
        case .q8, .q4: nil
        }
    }

    /// Whether the format stores blocks of 32 values with a scale (`q8`, `q4`).
    public var isBlockQuantized: Bool { self == .q8 || self == .q4 }

    /// Bytes of one row of `columns` values: element size times columns, or whole blocks (the last one padded).
    public func rowBytes(columns: Int) -> Int {
        if let byteCount { return columns * byteCount }  // safe: columns bounded by ModelConfig.Limits or the header
        let blocks = (columns + QuantKernels.blockSize - 1) / QuantKernels.blockSize
        return blocks * (self == .q8 ? QuantKernels.q8BlockBytes : QuantKernels.q4BlockBytes)
    }
}
