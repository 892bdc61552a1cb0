import Testing
import Kernels

@Suite struct KernelTests {
    @Test func matrixApplyMatchesNaiveProductForOneAndManyRows() {
        let weights = FloatBuffer((0..<15).map { Float($0) * 0.5 - 3 })
        let matrix = Matrix(rows: 5, columns: 3, storage: weights)
        let input: [Float] = [1, -2, 0.5, 3, 0, -1]  // two rows of 3
        for rows in [1, 2] {
            var output = [Float](repeating: 0, count: rows * 5)
            matrix.apply(input, count: rows, into: &output)
            for r in 0..<rows {
                for o in 0..<5 {
                    let expected = (0..<3).reduce(Float(0)) { $0 + weights[o * 3 + $1] * input[r * 3 + $1] }
                    #expect(abs(output[r * 5 + o] - expected) < 1e-5)
                }
            }
        }
    }

    @Test func rmsNormAndSoftmax() {
        var y = [Float](repeating: 0, count: 4)
        Elementwise.rmsNorm([1, 2, 3, 4], weight: [1, 1, 2, 1], rows: 1, width: 4, epsilon: 0, into: &y)
        let rms = (30 / 4 as Float).squareRoot()
        #expect(abs(y[2] - 6 / rms) < 1e-5)
        var x: [Float] = [1, 2, -.infinity, 3]
        Elementwise.softmax(&x, count: 4)
        #expect(x[2] == 0)
        #expect(abs(x.reduce(0, +) - 1) < 1e-6)
        #expect(x[3] > x[1] && x[1] > x[0])
    }

    @Test func halfPrecisionWidening() {
        let bf16: [UInt16] = [0x3F80, 0xC000, HalfPrecision.narrowToBFloat16(0.15625)]
        var out = [Float](repeating: 0, count: 3)
        HalfPrecision.widenBFloat16(bf16, count: 3, into: &out)
        #expect(out == [1, -2, 0.15625])
        let f16: [UInt16] = [0x3C00, 0xC000, 0x3555]
        HalfPrecision.widenFloat16(f16, count: 3, into: &out)
        #expect(out[0] == 1 && out[1] == -2 && abs(out[2] - 0.33325195) < 1e-6)
    }

    /// Attention over a cache with a causal-by-position mask against a direct computation.
    @Test func attentionMatchesDirectComputation() {
        let shape = Attention.Shape(heads: 4, kvHeads: 2, headDimension: 4)
        let cells = 5
        let keys = (0..<(cells * 8)).map { Float(($0 * 13) % 7) * 0.3 - 1 }
        let values = (0..<(cells * 8)).map { Float(($0 * 5) % 9) * 0.2 - 0.8 }
        let positions: [Int32] = [0, 1, 2, 3, 4]
        let sequences: [Int32] = [0, 0, 1, 0, 0]  // cell 2 belongs to another sequence
        for queries in [1, 3] {
            let q = (0..<(queries * 16)).map { Float(($0 * 3) % 5) * 0.4 - 0.9 }
            let queryPositions: [Int32] = queries == 1 ? [3] : [1, 3, 4]
            var out = [Float](repeating: 0, count: queries * 16)
            var scores = [Float](repeating: 0, count: Attention.scratchCount(shape: shape, queries: queries, cells: cells, capturing: false))
            positions.withUnsafeBufferPointer { p in
                sequences.withUnsafeBufferPointer { s in
                    queryPositions.withUnsafeBufferPointer { qp in
                        let mask = AttentionMask(cellPositions: p.baseAddress!, cellSequences: s.baseAddress!,
                                                 queryPositions: qp.baseAddress!, sequence: 0, window: nil)
                        Attention.compute(shape: shape, q: q, queries: queries, keys: keys, values: values, cells: cells,
                                          mask: mask, scores: &scores, out: &out)
                    }
                }
            }
            for t in 0..<queries {
                for h in 0..<4 {
                    let kv = h / 2
                    var weights: [Float] = (0..<cells).map { c in
                        guard sequences[c] == 0, positions[c] <= queryPositions[t] else { return -.infinity }
                        return (0..<4).reduce(0) { $0 + q[t * 16 + h * 4 + $1] * keys[c * 8 + kv * 4 + $1] } / 2
                    }
                    Elementwise.softmax(&weights, count: cells)
                    for i in 0..<4 {
                        let expected = (0..<cells).reduce(Float(0)) { $0 + weights[$1] * values[$1 * 8 + kv * 4 + i] }
                        #expect(abs(out[t * 16 + h * 4 + i] - expected) < 1e-5)
                    }
                }
            }
        }
    }
}
