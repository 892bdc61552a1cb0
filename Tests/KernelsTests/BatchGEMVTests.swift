import Testing
import TestSupport
import Kernels

/// f32 `Matrix.apply` of 2-64 rows (one pass over the weights, `ck_sgemv_batch`; 65 goes to sgemm) against a
/// double-precision product: small matrices (tail columns, one thread) and large ones (rows split with a second thread).
@Suite struct BatchGEMVTests {
    @Test(arguments: [(37, 45), (1101, 1000)])
    func batchOfRowsMatchesTheProduct(rows: Int, columns: Int) throws {
        var random = SplitMix(seed: 23)
        let weights = FloatBuffer(count: rows * columns)
        for i in 0..<weights.count { weights.pointer[i] = random.unit() }
        let matrix = Matrix(rows: rows, columns: columns, storage: weights)
        for count in rows < 100 ? [1, 2, 3, 4, 5, 7, 8, 9, 13, 31, 64, 65] : [1, 2, 8, 9, 33, 64, 65] {
            let input = (0..<(count * columns)).map { _ in random.unit() }
            var expected = [Double](repeating: 0, count: count * rows)
            for b in 0..<count {
                for r in 0..<rows {
                    var sum = 0.0
                    for c in 0..<columns { sum += Double(weights.pointer[r * columns + c]) * Double(input[b * columns + c]) }
                    expected[b * rows + r] = sum
                }
            }
            var actual = [Float](repeating: .nan, count: count * rows)
            matrix.apply(input, count: count, into: &actual)
            // |x|, |w| < 1: each sum has `columns` terms below 1, so f32 rounding stays below 1e-6 * columns.
            let difference = maxAbsoluteDifference(actual.map(Double.init), expected)
            #expect(difference <= 1e-6 * Double(columns), "\(rows)x\(columns), \(count) rows: \(difference)")
        }
    }
}

/// bf16 / f16 `Matrix.apply` of 2-64 rows (`ck_half_gemv_batch`, weights widened in registers) gives the f32
/// batch kernel's result over the widened matrix bit for bit; the scalar path takes the panels + sgemm route.
@Suite struct HalfBatchGEMVTests {
    @Test(arguments: [StorageFormat.bf16, .f16], [(37, 45), (1101, 1000)])
    func batchOfRowsMatchesTheWidenedF32Kernel(format: StorageFormat, shape: (Int, Int)) throws {
        let (rows, columns) = shape
        var random = SplitMix(seed: 29)
        let values = (0..<(rows * columns)).map { _ in random.unit() }
        let half = HalfBuffer(count: rows * columns)
        for i in 0..<values.count {
            half.pointer[i] = narrowed(values[i], format)
        }
        let widened = FloatBuffer(count: rows * columns)
        HalfKernels.widen(format, path: .scalar, half.pointer, count: rows * columns, into: widened.pointer)
        let matrix = Matrix(rows: rows, columns: columns, storage: format == .bf16 ? .bf16(half) : .f16(half))
        let reference = Matrix(rows: rows, columns: columns, storage: widened)
        for count in [2, 3, 4, 5, 7, 8, 9, 17, 33, 64] {
            let input = (0..<(count * columns)).map { _ in random.unit() }
            var expected = [Float](repeating: .nan, count: count * rows)
            reference.apply(input, count: count, into: &expected)
            var actual = [Float](repeating: .nan, count: count * rows)
            matrix.apply(input, count: count, into: &actual, path: .avx2)
            #expect(actual == expected, "\(format) \(rows)x\(columns), \(count) rows")
            // The scalar path is refused by the batch kernel and goes through panels + sgemm: same product.
            var panels = [Float](repeating: .nan, count: count * rows)
            matrix.apply(input, count: count, into: &panels, path: .scalar)
            #expect(maxAbsoluteDifference(panels.map(Double.init), expected.map(Double.init)) <= 1e-6 * Double(columns))
        }
    }
}
