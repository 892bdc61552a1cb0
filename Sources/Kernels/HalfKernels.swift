import CKernels
import Foundation

/// Swift entry points of the 16-bit weight kernels (Sources/CKernels/half_*.c).
public enum HalfKernels {
    static func code(_ format: StorageFormat) -> Int32 { format == .bf16 ? Int32(CK_HALF_BF16) : Int32(CK_HALF_F16) }

    /// `y = W x` with `W` `[rows, columns]` in `format` (bf16 or f16), `x` `[columns]`, `y` `[rows]`.
    /// - threads: cores (1 or 2; default `gemvThreads`); 2 splits the rows of large matrices with a helper
    ///   thread, with bit-identical results.
    /// - Returns: false (and writes nothing) when `path` is unsupported here or `format` is f32.
    @discardableResult
    public static func gemv(_ format: StorageFormat, path: KernelPath = .active, weights: UnsafePointer<UInt16>, rows: Int,
                            columns: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                            threads: Int? = nil) -> Bool {
        guard format != .f32 else { return false }
        let cores = Int32(clamping: threads ?? gemvThreads)
        return ck_half_gemv_threads(path.code, code(format), weights, rows, columns, input, output, cores) == 0
    }

    /// `y[b] = W x[b]` for `count` (1...CK_BATCH_GEMV_MAX, 64) vectors in one pass over `W` (decode steps of several sequences):
    /// `x` `[count, columns]`, `y` `[count, rows]`. Bit-identical to the f32 batch GEMV over the widened matrix.
    /// - Returns: false (and writes nothing) on the scalar path (the kernel is AVX2 code), a path unsupported
    ///   here, f32, or a count outside 1...64.
    @discardableResult
    public static func gemvBatch(_ format: StorageFormat, path: KernelPath = .active, weights: UnsafePointer<UInt16>, rows: Int,
                                 columns: Int, input: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>) -> Bool {
        guard format != .f32 else { return false }
        return ck_half_gemv_batch(path.code, code(format), weights, rows, columns, input, count, output) == 0
    }

    /// Cores the GEMV kernel uses by default: 2 (one helper thread; see Sources/CKernels/gemv_split.c), or
    /// 1 when `REANCHOR_GEMV_THREADS=1`.
    public static let gemvThreads: Int = {
        let value = ProcessInfo.processInfo.environment["REANCHOR_GEMV_THREADS"].flatMap { Int($0) } ?? 2
        return min(max(value, 1), 2)
    }()

    /// `destination[i] = Float(source[i])` for `count` values in `format` (exact).
    /// - Returns: false (and writes nothing) when `path` is unsupported here or `format` is f32.
    @discardableResult
    public static func widen(_ format: StorageFormat, path: KernelPath = .active, _ source: UnsafePointer<UInt16>, count: Int,
                             into destination: UnsafeMutablePointer<Float>) -> Bool {
        guard format != .f32 else { return false }
        return ck_half_widen(path.code, code(format), source, count, destination) == 0
    }

    /// `destination[i] = source[i]` rounded to nearest even in `format` (bf16 or f16); NaN stays NaN and a value
    /// beyond the format's range becomes infinity (`firstNonFinite` finds both).
    /// - Returns: false (and writes nothing) when `path` is unsupported here or `format` is f32.
    @discardableResult
    public static func narrow(_ format: StorageFormat, path: KernelPath = .active, _ source: UnsafePointer<Float>, count: Int,
                              into destination: UnsafeMutablePointer<UInt16>) -> Bool {
        guard format == .bf16 || format == .f16 else { return false }
        return ck_half_narrow(path.code, code(format), source, count, destination) == 0
    }

    /// Index of the first NaN or infinity among `count` values in `format` (bf16 or f16), or nil.
    public static func firstNonFinite(_ format: StorageFormat, _ source: UnsafePointer<UInt16>, count: Int) -> Int? {
        guard format != .f32 else { return nil }
        let index = ck_half_first_nonfinite(code(format), source, count)
        return index < 0 ? nil : index
    }
}
