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
    /// Quantized at load to blocks of 32 int8 with one f16 scale (like GGUF Q8_0), from any dtype.
    case q8
    /// Projections quantized at load to blocks of 32 4-bit values with one f16 scale (like GGUF Q4_0);
    /// embeddings and the LM head in q8 (see `storage(for:role:)`).
    case q4

    /// What a matrix is for: the format may differ by role.
    public enum Role: Sendable {
        /// q/k/v, o, gate/up, down.
        case projection
        /// The embeddings, and the LM head (tied or not).
        case vocabulary
    }

    /// The in-memory format of a matrix for `role` whose checkpoint tensor is stored as `dtype`.
    ///
    /// `q4` keeps the vocabulary matrices (embeddings, LM head) in q8, as llama.cpp's Q4_0 keeps its output
    /// matrix wider (Q6_K): on books-5m, 4-bit projections left perplexity within noise of f32 (-0.25%) and a
    /// 4-bit head as well raised it (+0.6%) (README "Weight formats", `QuantQualityTests`).
    public func storage(for dtype: DType, role: Role = .projection) -> StorageFormat {
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
        case .q8: .q8
        case .q4: role == .vocabulary ? .q8 : .q4
        }
    }
}
