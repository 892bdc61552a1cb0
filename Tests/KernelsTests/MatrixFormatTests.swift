import Testing
import TestSupport
import Kernels

/// `Matrix.apply` and `copyRow` on bf16 / f16 storage against the same values held as f32: decode (one row
/// through the GEMV kernel) and batches (panels widened for sgemm, several panels and a partial last one).
@Suite struct MatrixFormatTests {
    /// (rows, columns, input rows): one panel, 256-row panels with a partial last, 87-row panels of wide rows.
    static let cases = [(5, 3, 1), (5, 3, 2), (300, 40, 1), (300, 40, 7), (200, 3000, 1), (200, 3000, 5), (33, 65, 64)]

    @Test(arguments: [StorageFormat.bf16, .f16])
    func sixteenBitMatrixMatchesItsF32Widening(format: StorageFormat) throws {
        var random = SplitMix(seed: 11)
        for (rows, columns, count) in Self.cases {
            let matrix = Matrix(rows: rows, columns: columns, format: format)
            let wide = FloatBuffer(count: rows * columns)
            switch matrix.storage {
            case .bf16(let words), .f16(let words): fill(words, wide, format: format, random: &random)
            default: Issue.record("a \(format) matrix holds \(matrix.format) storage"); return
            }
            try compare(matrix, Matrix(rows: rows, columns: columns, storage: wide), count: count, random: &random)
        }
    }

    private func fill(_ words: HalfBuffer, _ wide: FloatBuffer, format: StorageFormat, random: inout SplitMix) {
        for i in 0..<words.count { words.pointer[i] = random.half(format) }
        _ = HalfKernels.widen(format, path: .scalar, words.pointer, count: words.count, into: wide.pointer)
    }

    private func compare(_ matrix: Matrix, _ reference: Matrix, count: Int, random: inout SplitMix) throws {
        let input = (0..<(count * matrix.columns)).map { _ in random.unit() }
        var expected = [Float](repeating: 0, count: count * matrix.rows)
        var actual = [Float](repeating: .nan, count: count * matrix.rows)
        reference.apply(input, count: count, into: &expected)
        matrix.apply(input, count: count, into: &actual)
        // The 16-bit values widen exactly, so only the summation order differs (see HalfKernelTests):
        // |x|, |w| < 1 make S <= columns, and 1e-5 S bounds the rounding.
        let bound = 1e-5 * Double(matrix.columns)
        let difference = maxAbsoluteDifference(actual, expected)
        #expect(difference <= bound, "\(matrix.format) \(matrix.rows)x\(matrix.columns), \(count) rows: \(difference)")
        #expect(matrix.byteCount == matrix.rows * matrix.columns * 2)
        var row = [Float](repeating: .nan, count: matrix.columns)
        var referenceRow = [Float](repeating: 0, count: matrix.columns)
        matrix.copyRow(matrix.rows - 1, into: &row)
        reference.copyRow(matrix.rows - 1, into: &referenceRow)
        #expect(row == referenceRow)
    }
}
