import Testing
import Kernels
import Foundation

/// The decode attention kernel at the widths pruned heads have (not multiples of 8: the masked vector tails),
/// with canonical keys rotated inside the dot products and without, against a direct computation; over query
/// groups of 2, 7 (not a multiple of the four heads scored at once) and 1, and over enough cells that the KV
/// heads are shared with the helper thread (14 heads x 700 cells x 128 multiply-adds, above the kernel's 2^17).
/// The streaming decode kernel (segments of cells merged at the end, two cells' keys per step), with and without
/// the weights captured (written from the merged segments).
@Suite struct AttentionWidthTests {
    static let widths: [(key: Int, value: Int)] = [(4, 4), (12, 13), (22, 19), (44, 45), (64, 64), (18, 7), (128, 96)]
    static let layouts: [(heads: Int, kvHeads: Int, cells: Int)] = [(4, 2, 9), (14, 2, 700), (8, 8, 70)]

    @Test(arguments: widths.indices, [false, true])
    func decodeMatchesDirectComputation(index: Int, rotated: Bool) {
        for layout in Self.layouts {
            for capturing in [false, true] { check(index: index, rotated: rotated, layout: layout, capturing: capturing) }
        }
    }

    func check(index: Int, rotated: Bool, layout: (heads: Int, kvHeads: Int, cells: Int), capturing: Bool) {
        let (dk, dv) = Self.widths[index]
        let (heads, kvHeads, cells) = layout
        let half = dk / 2, group = heads / kvHeads
        let shape = Attention.Shape(heads: heads, kvHeads: kvHeads, headDimension: 64, keyDimension: dk, valueDimension: dv)
        let keys = (0..<(cells * kvHeads * dk)).map { Float(($0 * 13) % 17) * 0.11 - 0.9 }
        let values = (0..<(cells * kvHeads * dv)).map { Float(($0 * 5) % 11) * 0.17 - 0.8 }
        let q = (0..<(heads * dk)).map { Float(($0 * 7) % 9) * 0.23 - 1 }
        // Per cell and KV head, `half` angles.
        let angles = (0..<(cells * kvHeads * half)).map { Float($0 % 23) * 0.37 - 2 }
        let cos = angles.map { Foundation.cos($0) }, sin = angles.map { Foundation.sin($0) }
        let positions = (0..<cells).map { Int32($0) }
        // Cells of another sequence, free cells (-1) and cells after the query are masked.
        let sequences: [Int32] = (0..<cells).map { $0 % 9 == 2 ? 1 : ($0 % 9 == 6 ? -1 : 0) }
        let query: [Int32] = [Int32(cells - 2)]
        var out = [Float](repeating: 0, count: heads * dv)
        var scores = [Float](repeating: .nan, count: Attention.scratchCount(shape: shape, queries: 1, cells: cells, capturing: capturing))
        var weights = [Float](repeating: .nan, count: capturing ? heads * cells : 0)
        positions.withUnsafeBufferPointer { p in
            sequences.withUnsafeBufferPointer { s in
                query.withUnsafeBufferPointer { qp in
                    cos.withUnsafeBufferPointer { c in
                        sin.withUnsafeBufferPointer { n in
                            let mask = AttentionMask(cellPositions: p.baseAddress!, cellSequences: s.baseAddress!,
                                                     queryPositions: qp.baseAddress!, sequence: 0, window: nil)
                            let table = RotationTable(rows: cells, cos: c.baseAddress!, sin: n.baseAddress!, rowStride: kvHeads * half, heads: kvHeads)
                            weights.withUnsafeMutableBufferPointer { w in
                                Attention.compute(shape: shape, q: q, queries: 1, keys: keys, values: values, cells: cells, mask: mask,
                                                  scores: &scores, out: &out, keyRotation: rotated ? table : nil,
                                                  probabilities: capturing ? w.baseAddress : nil)
                            }
                        }
                    }
                }
            }
        }
        var worst: Float = 0
        for h in 0..<heads {
            let kv = h / group
            var expectedWeights: [Float] = (0..<cells).map { c in
                guard sequences[c] == 0, positions[c] <= query[0] else { return -.infinity }
                var k = Array(keys[((c * kvHeads + kv) * dk)..<((c * kvHeads + kv + 1) * dk)])
                if rotated {
                    for i in 0..<half {
                        let a = (c * kvHeads + kv) * half + i
                        (k[i], k[i + half]) = (k[i] * cos[a] - k[i + half] * sin[a], k[i + half] * cos[a] + k[i] * sin[a])
                    }
                }
                return (0..<dk).reduce(0) { $0 + q[h * dk + $1] * k[$1] } / 8  // 1 / sqrt(headDimension 64)
            }
            Elementwise.softmax(&expectedWeights, count: cells)
            for i in 0..<dv {
                let expected = (0..<cells).reduce(Float(0)) { $0 + expectedWeights[$1] * values[($1 * kvHeads + kv) * dv + i] }
                worst = max(worst, abs(out[h * dv + i] - expected))
            }
            if capturing {
                for c in 0..<cells { worst = max(worst, abs(weights[h * cells + c] - expectedWeights[c])) }
            }
        }
        #expect(worst < 1e-5, "dk \(dk) dv \(dv) rotated \(rotated) \(layout) capturing \(capturing): max |Δ| = \(worst)")
    }
}
