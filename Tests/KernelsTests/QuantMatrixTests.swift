import Testing
import TestSupport
import Kernels

/// `Matrix.apply` and `copyRow` on q8 / q4 storage against the dequantized values held as f32: decode (the
/// input quantized per block, integer GEMV) within the input's quantization error, batches (panels
/// dequantized exactly for sgemm, several panels and a partial last one) within f32 rounding.
@Suite struct QuantMatrixTests {
    /// (rows, columns, input rows): partial blocks, several panels with a partial last one, wide rows.
    static let cases = [(5, 3, 1), (5, 3, 2), (300, 40, 1), (300, 40, 7), (200, 3000, 1), (200, 3000, 5), (33, 65, 64)]

    @Test(arguments: [StorageFormat.q8, .q4])
    func quantizedMatrixMatchesItsDequantization(format: StorageFormat) throws {
        var random = SplitMix(seed: 13)
        for (rows, columns, count) in Self.cases {
            let matrix = Matrix(rows: rows, columns: columns, format: format)
            #expect(matrix.byteCount == rows * ((columns + 31) / 32) * (format == .q8 ? 34 : 18))
            let values = (0..<(rows * columns)).map { _ in random.unit() }
            switch matrix.storage {
            case .q8(let buffer), .q4(let buffer):
                try QuantKernels.quantize(format, values, rows: rows, columns: columns, into: buffer.pointer)
            default: Issue.record("a \(format) matrix holds \(matrix.format) storage"); return
            }
            try compare(matrix, count: count, random: &random)
        }
    }

    private func compare(_ matrix: Matrix, count: Int, random: inout SplitMix) throws {
        let (rows, columns) = (matrix.rows, matrix.columns)
        let wide = FloatBuffer(count: rows * columns)
        for row in 0..<rows { matrix.copyRow(row, into: wide.pointer + row * columns, path: .scalar) }
        let reference = Matrix(rows: rows, columns: columns, storage: wide)
        let input = (0..<(count * columns)).map { _ in random.unit() }
        var expected = [Float](repeating: 0, count: count * rows)
        var actual = [Float](repeating: .nan, count: count * rows)
        reference.apply(input, count: count, into: &expected)
        matrix.apply(input, count: count, into: &actual)
        for t in 0..<count {
            for row in 0..<rows {
                let weights = (0..<columns).map { wide[row * columns + $0] }
                let magnitude = zip(weights, input[(t * columns)...]).reduce(Float(0)) { $0 + abs($1.0 * $1.1) }
                var bound = 1e-5 * magnitude + 1e-30
                if count == 1 {
                    // Decode quantizes the input per block: each |x - x̃| <= max |x| of its block / 254, so the
                    // sum moves by at most sum over blocks of (sum |w| in the block) * that.
                    for block in 0..<((columns + 31) / 32) {
                        let range = (block * 32)..<min(columns, block * 32 + 32)
                        let largest = input[range].map(abs).max() ?? 0
                        bound += weights[range].reduce(Float(0)) { $0 + abs($1) } * largest / 254 * 1.001
                    }
                }
                let difference = abs(actual[t * rows + row] - expected[t * rows + row])
                #expect(difference <= bound, "\(matrix.format) \(rows)x\(columns), \(count) rows, [\(t), \(row)]: \(difference) > \(bound)")
            }
        }
        var row = [Float](repeating: .nan, count: columns)
        matrix.copyRow(rows - 1, into: &row)
        #expect(row == Array(UnsafeBufferPointer(start: wide.pointer + (rows - 1) * columns, count: columns)))
    }
}
