import CBLAS

/// Row-major dense products of small f32 matrices given by pointer and leading dimension (one `cblas_sgemm`
/// each): for code outside the model that ranks, scores or compares K/V rows.
public enum DenseProduct {
    /// `c[m, n] = alpha · a[m, k] · b[n, k]ᵀ`: the dot products of `a`'s rows with `b`'s rows.
    /// - lda, ldb, ldc: floats from one row to the next (at least `k`, `k`, `n`).
    public static func dots(_ a: UnsafePointer<Float>, rows m: Int, lda: Int, _ b: UnsafePointer<Float>, rows n: Int, ldb: Int,
                            depth k: Int, alpha: Float = 1, into c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            for row in 0..<m { (c + row * ldc).update(repeating: 0, count: n) }
            return
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), 0,
                    c, Int32(ldc))
    }

    /// `c[m, n] = a[m, k] · b[k, n]`: rows of `a` as weights over `b`'s rows.
    public static func weighted(_ a: UnsafePointer<Float>, rows m: Int, lda: Int, _ b: UnsafePointer<Float>, columns n: Int, ldb: Int,
                                depth k: Int, into c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            for row in 0..<m { (c + row * ldc).update(repeating: 0, count: n) }
            return
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), 0,
                    c, Int32(ldc))
    }
}
