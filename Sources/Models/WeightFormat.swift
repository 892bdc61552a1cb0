import Kernels

/// The format weights are kept in memory (`--weights`). Norms and biases are always f32.
public enum WeightFormat: String, Sendable, CaseIterable, Codable {
    /// Each matrix as its checkpoint stores it: BF16 stays bf16, F16 stays f16, F32 stays f32.
    case auto
    /// Widened (or kept) to f32 at load.
    case f32
    /// Converted at load to bf16 (round to nearest even) when stored otherwise.
    case bf16
    /// Converted at load to f16 (round to nearest even; values beyond ±65504 become infinite and are refused).
    case f16

    /// The in-memory format of a matrix whose checkpoint tensor is stored as `dtype`.
    public func storage(for dtype: DType) -> StorageFormat {
        switch self {
        case .auto:
            switch dtype {
            case .f32: .f32
            case .bf16: .bf16
            case .f16: .f16
            }
        case .f32: .f32
        case .bf16: .bf16
        case .f16: .f16
        }
    }
}
