import CKernels

/// Kernels of the document library's compact entries that are not 16-bit conversions (those are
/// `HalfKernels.narrow` / `widen`): q8 blocks with f32 scales, and the finiteness scan of f32 payloads
/// (Sources/CKernels/kv_q8.c).
///
/// A q8 row of `columns` values is `ceil(columns / 32)` blocks of 36 bytes: an f32 scale `d = max|x| / 127`
/// then 32 int8 `q = round(x / d)` (value `d * q`, the last block padded with zeros). Unlike the weights' q8
/// (`QuantKernels`, f16 scales) the scale has f32's range, and quantizing values that are already `d * q`
/// gives back the same bytes, so an entry copied between tiers never drifts.
public enum EntryKernels {
    public static let q8BlockValues = 32
    public static let q8BlockBytes = Int(CK_KV_Q8_BLOCK_BYTES)

    /// Bytes of one q8 row of `columns` values, or nil when the product overflows.
    public static func q8RowBytes(columns: Int) -> Int? {
        guard columns >= 0 else { return nil }
        let (bytes, overflow) = ((columns + q8BlockValues - 1) / q8BlockValues).multipliedReportingOverflow(by: q8BlockBytes)
        return overflow ? nil : bytes
    }

    /// Why `quantize` or `dequantize` stopped: the index of the first element of a block holding a NaN or
    /// infinity (quantize), or the index of a block whose scale is not finite (dequantize).
    public struct Refusal: Error, Equatable {
        public let index: Int

        public init(index: Int) { self.index = index }
    }

    /// Quantizes `source` `[rows, columns]` into `destination` (`rows * q8RowBytes(columns:)` bytes).
    public static func quantize(_ source: UnsafePointer<Float>, rows: Int, columns: Int,
                                into destination: UnsafeMutablePointer<UInt8>) throws(Refusal) {
        let result = ck_kv_q8_quantize(source, rows, columns, destination)
        if result >= 0 { throw Refusal(index: result) }
    }

    /// `destination` `[rows, columns]` = the values of the q8 rows at `source` (each `d * q`, rounded once).
    public static func dequantize(_ source: UnsafePointer<UInt8>, rows: Int, columns: Int,
                                  into destination: UnsafeMutablePointer<Float>) throws(Refusal) {
        let result = ck_kv_q8_dequantize(source, rows, columns, destination)
        if result >= 0 { throw Refusal(index: result) }
    }

    /// Index of the first NaN or infinity among `count` f32 values, or nil.
    public static func firstNonFinite(_ source: UnsafePointer<Float>, count: Int) -> Int? {
        let index = ck_f32_first_nonfinite(source, count)
        return index < 0 ? nil : index
    }
}
