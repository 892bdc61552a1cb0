import CBLAS

/// A dense row-major weight matrix `[rows, columns]`, as Hugging Face stores `nn.Linear.weight`
/// (`[out_features, in_features]`).
///
/// The storage is f32 today; keeping it behind this type lets a bf16 representation and kernel replace
/// it without touching the models.
public struct Matrix: Sendable {
    public let rows: Int
    public let columns: Int
    public let storage: FloatBuffer

    public init(rows: Int, columns: Int, storage: FloatBuffer) {
        precondition(storage.count >= rows * columns, "matrix storage too small")  // safe: loader checks shapes first
        self.rows = rows
        self.columns = columns
        self.storage = storage
    }

    public init(rows: Int, columns: Int) {
        self.init(rows: rows, columns: columns, storage: FloatBuffer(count: rows * columns))
    }

    /// Bytes read from memory by one full pass over the weights.
    public var byteCount: Int { rows * columns * MemoryLayout<Float>.stride }

    /// `output[t, :] = input[t, :] · selfᵀ` for `count` rows.
    ///
    /// - input: `[count, columns]`, output: `[count, rows]`, both row-major and contiguous.
    /// One `sgemm` for a batch (prefill), one `sgemv` for a single row (decode).
    public func apply(_ input: UnsafePointer<Float>, count: Int, into output: UnsafeMutablePointer<Float>) {
        if count == 1 {
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(rows), Int32(columns), 1, storage.pointer, Int32(columns),
                        input, 1, 0, output, 1)
        } else {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(count), Int32(rows), Int32(columns), 1,
                        input, Int32(columns), storage.pointer, Int32(columns), 0, output, Int32(rows))
        }
    }
}
