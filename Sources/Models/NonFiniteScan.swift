import CBLAS

/// Finds NaN and infinity in weights as they are loaded.
enum NonFiniteScan {
    /// Elements per BLAS call (its counts are 32-bit).
    static let chunk = 1 << 30

    /// Index of the first non-finite value of `values[0..<count]`, or nil when all are finite.
    ///
    /// Fast path: the sum of squares from BLAS (`sdot(x, x)`, optimized even in debug builds) is finite
    /// exactly when every value is finite, unless squares overflow (|x| > ~1.8e19, never a real weight);
    /// a NaN or ±inf always makes it non-finite (squares are never negative, so no inf - inf). Only then
    /// is the exact index searched, element by element.
    static func firstNonFinite(_ values: UnsafePointer<Float>, count: Int) -> Int? {
        var start = 0
        while start < count {
            let length = min(chunk, count - start)
            // safe: length <= 2^30 fits blasint (Int32); values[start..<start + length] lies inside the buffer.
            let squares = cblas_sdot(blasint(length), values + start, 1, values + start, 1)
            // safe: start + length <= count, an Int that exists.
            if !squares.isFinite, let index = (start..<(start + length)).first(where: { !values[$0].isFinite }) {  // safe: start + length <= count
                return index
            }
            start += length
        }
        return nil
    }
}
