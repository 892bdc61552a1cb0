import CKernels

/// Swift entry points of the block-quantized weight kernels (Sources/CKernels/quant_*.c).
///
/// A row of `columns` values is stored as `ceil(columns / 32)` blocks, the last padded with zeros: a q8 block
/// is an f16 scale and 32 int8 (value = scale * q, |q| <= 127); a q4 block an f16 scale and 16 bytes of nibbles
/// (value = scale * (nibble - 8)). The GEMV quantizes the input vector per block to int8 and sums exact
/// integer dot products, scaled by both blocks' scales (as llama.cpp's Q8_0 / Q4_0 x Q8_0 kernels do).
public enum QuantKernels {
    public static let blockSize = 32
    public static let q8BlockBytes = 34
    public static let q4BlockBytes = 18

    static func code(_ format: StorageFormat) -> Int32? {
        switch format {
        case .q8: Int32(CK_QUANT_Q8)
        case .q4: Int32(CK_QUANT_Q4)
        default: nil
        }
    }

    /// Blocks per row of `columns` values.
    public static func blocks(columns: Int) -> Int { (columns + blockSize - 1) / blockSize }

    /// Why `quantize` stopped: a block that holds a NaN or infinity, or whose scale exceeds f16's range.
    public struct Refusal: Error, Equatable {
        /// Index in the source of the first element of the refused block.
        public let index: Int

        public init(index: Int) { self.index = index }
    }

    /// Quantizes `rows` rows of `columns` f32 values (`source` `[rows, columns]`) into `destination`
    /// (`rows * format.rowBytes(columns:)` bytes), on the scalar reference (load time); does nothing for a
    /// format other than q8 / q4. Throws `Refusal` for a block with a non-finite value or a scale beyond f16
    /// (|value| > 65504 * 127 for q8, 65504 * 8 for q4).
    public static func quantize(_ format: StorageFormat, _ source: UnsafePointer<Float>, rows: Int, columns: Int,
                                into destination: UnsafeMutablePointer<UInt8>) throws(Refusal) {
        guard let code = code(format) else { return }
        let result = ck_quant_rows(code, source, rows, columns, destination)
        if result >= 0 { throw Refusal(index: result) }
    }

    /// Scratch floats `gemv` needs for an input of `columns` values: the int8 blocks (8 floats' worth per
    /// block) and one scale per block.
    public static func scratchFloats(columns: Int) -> Int { blocks(columns: columns) * 9 }

    /// `y = W x` with quantized `W` `[rows, columns]` in `format`, `x` `[columns]`, `y` `[rows]`.
    /// - scratch: at least `scratchFloats(columns:)` floats, for `x` quantized.
    /// - threads: cores (1 or 2; default `HalfKernels.gemvThreads`), bit-identical either way.
    /// - Returns: false (and writes nothing) when `path` is unsupported here or `format` is not q8 / q4.
    @discardableResult
    public static func gemv(_ format: StorageFormat, path: KernelPath = .active, weights: UnsafePointer<UInt8>, rows: Int,
                            columns: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                            scratch: UnsafeMutablePointer<Float>, threads: Int? = nil) -> Bool {
        let blockCount = blocks(columns: columns)
        let scales = scratch
        let quantized = UnsafeMutableRawPointer(scratch + blockCount).bindMemory(to: Int8.self, capacity: blockCount * blockSize)
        guard code(format) != nil, quantizeVector(path: path, input, columns: columns, quantized: quantized, scales: scales) else { return false }
        return gemv(format, path: path, weights: weights, rows: rows, columns: columns, quantized: quantized, scales: scales,
                    output: output, threads: threads ?? HalfKernels.gemvThreads)
    }

    /// Quantizes `x` `[columns]` per block: `quantized` `[blocks * 32]` (zero padded), `scales` `[blocks]`.
    /// Every path gives the same result. Returns false (and writes nothing) when `path` is unsupported here.
    @discardableResult
    public static func quantizeVector(path: KernelPath = .active, _ input: UnsafePointer<Float>, columns: Int,
                                      quantized: UnsafeMutablePointer<Int8>, scales: UnsafeMutablePointer<Float>) -> Bool {
        ck_quant_vector(path.code, input, columns, quantized, scales) == 0
    }

    /// `y = W x` for an input already quantized by `quantizeVector` (tests compare the kernels on one input).
    @discardableResult
    public static func gemv(_ format: StorageFormat, path: KernelPath, weights: UnsafePointer<UInt8>, rows: Int, columns: Int,
                            quantized: UnsafePointer<Int8>, scales: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                            threads: Int) -> Bool {
        guard let code = code(format) else { return false }
        return ck_quant_gemv(path.code, code, weights, rows, columns, quantized, scales, output, Int32(clamping: threads)) == 0
    }

    /// `destination` `[rows, columns]` = the f32 values of `rows` quantized rows starting at `weights` (exact).
    /// Returns false (and writes nothing) when `path` is unsupported here or `format` is not q8 / q4.
    @discardableResult
    public static func dequantize(_ format: StorageFormat, path: KernelPath = .active, _ weights: UnsafePointer<UInt8>, rows: Int,
                                  columns: Int, into destination: UnsafeMutablePointer<Float>) -> Bool {
        guard let code = code(format) else { return false }
        return ck_quant_dequantize(path.code, code, weights, rows, columns, destination) == 0
    }

    /// Whether the AVX-512 path runs its integer dot products with VNNI on this CPU.
    public static var avx512UsesVNNI: Bool { ck_quant_avx512_uses_vnni() != 0 }
}
