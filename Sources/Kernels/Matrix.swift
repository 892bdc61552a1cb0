import CBLAS
import CKernels
import Foundation

/// The elements of a `Matrix`, in the format they are kept in memory.
public enum MatrixStorage: Sendable {
    case f32(FloatBuffer)
    /// Raw bf16 bit patterns.
    case bf16(HalfBuffer)
    /// Raw IEEE binary16 bit patterns.
    case f16(HalfBuffer)
    /// Blocks of 32 int8 with an f16 scale, `rows * StorageFormat.q8.rowBytes(columns:)` bytes.
    case q8(QuantBuffer)
    /// Blocks of 32 4-bit values with an f16 scale, `rows * StorageFormat.q4.rowBytes(columns:)` bytes.
    case q4(QuantBuffer)

    public var format: StorageFormat {
        switch self {
        case .f32: .f32
        case .bf16: .bf16
        case .f16: .f16
        case .q8: .q8
        case .q4: .q4
        }
    }
}

/// A dense row-major weight matrix `[rows, columns]`, as Hugging Face stores `nn.Linear.weight`
/// (`[out_features, in_features]`), kept in f32, bf16, f16, q8 or q4 and never widened as a whole.
public struct Matrix: Sendable {
    public let rows: Int
    public let columns: Int
    public let storage: MatrixStorage

    /// Wraps f32 storage of at least `rows * columns` elements.
    public init(rows: Int, columns: Int, storage: FloatBuffer) {
        precondition(storage.count >= rows * columns, "matrix storage too small")  // safe: loader checks shapes first
        self.init(rows: rows, columns: columns, checked: .f32(storage))
    }

    /// Wraps storage in any format, of at least `rows * columns` elements.
    public init(rows: Int, columns: Int, storage: MatrixStorage) {
        switch storage {
        case .f32(let buffer): precondition(buffer.count >= rows * columns, "matrix storage too small")  // safe: shapes checked first
        case .bf16(let buffer), .f16(let buffer): precondition(buffer.count >= rows * columns, "matrix storage too small")
        case .q8(let buffer), .q4(let buffer):
            precondition(buffer.byteCount >= rows * storage.format.rowBytes(columns: columns), "matrix storage too small")
        }
        self.init(rows: rows, columns: columns, checked: storage)
    }

    private init(rows: Int, columns: Int, checked storage: MatrixStorage) {
        self.rows = rows
        self.columns = columns
        self.storage = storage
    }

    /// A zeroed matrix in `format`.
    public init(rows: Int, columns: Int, format: StorageFormat = .f32) {
        let count = rows * columns  // safe: shapes bounded by ModelConfig.Limits or the checkpoint's header
        switch format {
        case .f32: self.init(rows: rows, columns: columns, checked: .f32(FloatBuffer(count: count)))
        case .bf16: self.init(rows: rows, columns: columns, checked: .bf16(HalfBuffer(count: count)))
        case .f16: self.init(rows: rows, columns: columns, checked: .f16(HalfBuffer(count: count)))
        case .q8: self.init(rows: rows, columns: columns, checked: .q8(QuantBuffer(byteCount: rows * format.rowBytes(columns: columns))))
        case .q4: self.init(rows: rows, columns: columns, checked: .q4(QuantBuffer(byteCount: rows * format.rowBytes(columns: columns))))
        }
    }

    public var format: StorageFormat { storage.format }

    /// `rows * columns`.
    public var elementCount: Int { rows * columns }

    /// Bytes read from memory by one full pass over the weights (4 per element for f32, 2 for bf16 / f16;
    /// q8 34 and q4 18 per block of 32, rows padded to whole blocks).
    public var byteCount: Int { rows * format.rowBytes(columns: columns) }

    /// `output[t, :] = input[t, :] · selfᵀ` for `count` rows.
    ///
    /// - input: `[count, columns]`, output: `[count, rows]`, both row-major and contiguous.
    /// - panel: scratch reused between calls for the f32 panels of 16-bit weights (`Matrix+Panels.swift`).
    /// - path: the kernel path for 16-bit weights (tests force one; `.active` otherwise). A path this CPU
    ///   lacks is refused by the C kernels: nothing runs and `output` is left as it was.
    /// f32: one `sgemv` for a single row (decode), `ck_sgemv_batch` for 2-`shortBatchRows` rows (decode steps of
    /// several sequences, a warm prompt's query: one pass over the weights), one `sgemm` for larger batches (prefill).
    /// bf16 / f16: a C GEMV over the 16-bit rows for a single row; 2-`shortBatchRows` rows on the AVX2 / AVX-512 paths,
    /// `ck_half_gemv_batch` (one pass, weights widened in registers); larger batches (and the scalar path),
    /// the weights are widened to f32 one panel of rows at a time and each panel goes through `sgemm`, so no
    /// f32 copy of the whole matrix ever exists. q8 / q4: the same, with the input quantized per block for the GEMV (integer dot
    /// products; `QuantKernels`) and panels dequantized for `sgemm`.
    public func apply(_ input: UnsafePointer<Float>, count: Int, into output: UnsafeMutablePointer<Float>,
                      panel: inout Scratch, path: KernelPath = .active) {
        switch storage {
        case .f32(let buffer):
            if count == 1 {
                cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(rows), Int32(columns), 1, buffer.pointer, Int32(columns),
                            input, 1, 0, output, 1)
            } else if count <= Self.shortBatchRows {
                // A batch of decode rows: one pass over the weights (sgemm packs the matrix first, several times slower here).
                _ = ck_sgemv_batch(buffer.pointer, rows, columns, input, count, output)
            } else {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(count), Int32(rows), Int32(columns), 1,
                            input, Int32(columns), buffer.pointer, Int32(columns), 0, output, Int32(rows))
            }
        case .bf16(let buffer), .f16(let buffer):
            if count == 1 {
                HalfKernels.gemv(format, path: path, weights: buffer.pointer, rows: rows, columns: columns, input: input, output: output)
            } else if count <= Self.shortBatchRows,
                      HalfKernels.gemvBatch(format, path: path, weights: buffer.pointer, rows: rows, columns: columns, input: input,
                                            count: count, output: output) {
                // A batch of decode rows: one pass over the 16-bit weights, widened in registers.
            } else {
                applyPanels(buffer.pointer, input, count: count, into: output, panel: &panel, path: path)
            }
        case .q8(let buffer), .q4(let buffer):
            if count == 1 {
                let scratch = panel.reserve(QuantKernels.scratchFloats(columns: columns))
                QuantKernels.gemv(format, path: path, weights: buffer.pointer, rows: rows, columns: columns, input: input,
                                  output: output, scratch: scratch)
            } else {
                applyQuantPanels(buffer.pointer, input, count: count, into: output, panel: &panel, path: path)
            }
        }
    }

    /// Most rows that go through the batched GEMV (one pass over the weights, widened in registers) rather than
    /// `sgemm` (whose packing of the whole matrix, and for 16-bit weights the widening of every panel, a short
    /// batch does not repay). `REANCHOR_SHORT_BATCH` overrides it (benchmarks), within 1...CK_BATCH_GEMV_MAX.
    public static let shortBatchRows: Int = {
        let limit = Int(CK_BATCH_GEMV_MAX)
        guard let value = ProcessInfo.processInfo.environment["REANCHOR_SHORT_BATCH"].flatMap({ Int($0) }) else { return limit }
        return min(max(value, 1), limit)
    }()

    /// `apply` with scratch of its own (tests, one-off products).
    public func apply(_ input: UnsafePointer<Float>, count: Int, into output: UnsafeMutablePointer<Float>, path: KernelPath = .active) {
        var panel = Scratch()
        apply(input, count: count, into: output, panel: &panel, path: path)
    }

    /// Row `row` widened to f32 into `destination` (`columns` floats): the embedding lookup.
    /// `row` must lie in `0..<rows` (the model validates tokens first). Quantized rows are dequantized.
    public func copyRow(_ row: Int, into destination: UnsafeMutablePointer<Float>, path: KernelPath = .active) {
        precondition(row >= 0 && row < rows, "row outside the matrix")  // safe: tokens validated against the vocabulary first
        switch storage {
        case .f32(let buffer): destination.update(from: buffer.pointer + row * columns, count: columns)
        case .bf16(let buffer), .f16(let buffer):
            HalfKernels.widen(format, path: path, buffer.pointer + row * columns, count: columns, into: destination)
        case .q8(let buffer), .q4(let buffer):
            QuantKernels.dequantize(format, path: path, buffer.pointer + row * format.rowBytes(columns: columns), rows: 1,
                                    columns: columns, into: destination)
        }
    }
}
