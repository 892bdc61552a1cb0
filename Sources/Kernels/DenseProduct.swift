import CBLAS

/// Row-major dense products of small f32 matrices held in arrays, each given by its leading dimension (the
/// second also by the offset of its first row), one `cblas_sgemm` each: for code outside the model that ranks,
/// scores or compares K/V rows without touching pointers.
public enum DenseProduct {
    /// `c[m, n] = alpha · a[m, k] · b[n, k]ᵀ`: the dot products of `a`'s rows with `b`'s rows.
    /// - lda, ldb, ldc: floats from one row to the next (at least `k`, `k`, `n`). Every row must lie inside
    ///   its array (a precondition: callers derive the shapes from arrays they sized).
    public static func dots(_ a: [Float], rows m: Int, lda: Int, _ b: [Float], startingAt bOffset: Int = 0,
                            rows n: Int, ldb: Int, depth k: Int, alpha: Float = 1, into c: inout [Float], ldc: Int) {
        product(a, m, lda, b, bOffset, ldb, n, k, alpha, transposed: true, into: &c, ldc: ldc)
    }

    /// `c[m, n] = a[m, k] · b[k, n]`: rows of `a` as weights over `b`'s rows.
    public static func weighted(_ a: [Float], rows m: Int, lda: Int, _ b: [Float], startingAt bOffset: Int = 0,
                                columns n: Int, ldb: Int, depth k: Int, into c: inout [Float], ldc: Int) {
        product(a, m, lda, b, bOffset, ldb, n, k, 1, transposed: false, into: &c, ldc: ldc)
    }

    private static func product(_ a: [Float], _ m: Int, _ lda: Int, _ b: [Float], _ bOffset: Int, _ ldb: Int,
                                _ n: Int, _ k: Int, _ alpha: Float, transposed: Bool, into c: inout [Float], ldc: Int) {
        guard m > 0, n > 0 else { return }
        let bRows = transposed ? n : k, bWidth = transposed ? k : n
        precondition(lda >= k && (m - 1) * lda + k <= a.count, "DenseProduct: a is too small")
        precondition(bOffset >= 0 && ldb >= bWidth && (bRows == 0 || bOffset + (bRows - 1) * ldb + bWidth <= b.count),
                     "DenseProduct: b is too small")
        precondition(ldc >= n && (m - 1) * ldc + n <= c.count, "DenseProduct: c is too small")
        guard k > 0 else {
            for row in 0..<m { for column in 0..<n { c[row * ldc + column] = 0 } }
            return
        }
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    guard let a = a.baseAddress, let b = b.baseAddress, let c = c.baseAddress else { return }
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, transposed ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), Int32(k), alpha,
                                a, Int32(lda), b + bOffset, Int32(ldb), 0, c, Int32(ldc))
                }
            }
        }
    }
}
