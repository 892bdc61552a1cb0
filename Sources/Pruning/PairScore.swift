import Foundation
import Models

/// How a RoPE pair (dims `i` and `i + d/2` of a head, rotating together) is scored for pruning. Both are
/// computed from rotated calibration queries and keys; a pair's score sums over the query heads of its KV
/// group (the pair is dropped from all of them).
public enum PairScore: String, CaseIterable, Sendable, Codable {
    /// `mean_t ‖q_t,pair‖ · mean_s ‖k_s,pair‖`: the typical magnitude of the pair's term in `q · k`
    /// (`|q_p · k_p| ≤ ‖q_p‖ ‖k_p‖`, and the norms do not change under rotation). Cheap: O(T d).
    case energy
    /// `mean_t ‖o_t − o_t^(−pair)‖²`: the change of the head's attention output when the pair's term is
    /// removed from every logit (softmax and values included), on the calibration text. O(T² d) per pair.
    case output

    /// `[kvHeads][d/2]` scores of one layer (higher: more important).
    func scores(_ fresh: FreshProjections) -> [[Double]] {
        switch self {
        case .energy: return Self.energy(fresh)
        case .output: return Self.outputChange(fresh)
        }
    }

    private static func energy(_ f: FreshProjections) -> [[Double]] {
        let d = f.keyDimension, half = d / 2, group = f.heads / f.kvHeads, rows = f.rows
        return (0..<f.kvHeads).map { g in
            (0..<half).map { i in
                var q = 0.0, k = 0.0
                for t in 0..<rows {
                    for h in (g * group)..<((g + 1) * group) {
                        let base = (t * f.heads + h) * d
                        q += Double(hypotf(f.queries[base + i], f.queries[base + half + i]))
                    }
                    let base = (t * f.kvHeads + g) * d
                    k += Double(hypotf(f.keys[base + i], f.keys[base + half + i]))
                }
                return (q / Double(rows)) * (k / Double(rows))
            }
        }
    }

    private static func outputChange(_ f: FreshProjections) -> [[Double]] {
        let d = f.keyDimension, dv = f.valueDimension, half = d / 2, group = f.heads / f.kvHeads, rows = f.rows
        let scale = 1 / Float(f.headDimension).squareRoot()
        var result = [[Double]](repeating: [Double](repeating: 0, count: half), count: f.kvHeads)
        var logits = [Float](repeating: 0, count: rows * rows)
        var weights = [Float](repeating: 0, count: rows)
        var output = [Float](repeating: 0, count: rows * dv)
        var changed = [Float](repeating: 0, count: dv)
        func attend(_ t: Int, removing pair: Int?, h: Int, g: Int, into out: inout [Float], at offset: Int) {
            var maximum = -Float.infinity
            for s in 0...t {
                var z = logits[t * rows + s]
                if let pair {
                    let q = (t * f.heads + h) * d, k = (s * f.kvHeads + g) * d
                    z -= scale * (f.queries[q + pair] * f.keys[k + pair] + f.queries[q + half + pair] * f.keys[k + half + pair])
                }
                weights[s] = z
                maximum = max(maximum, z)
            }
            var total: Float = 0
            for s in 0...t { weights[s] = expf(weights[s] - maximum); total += weights[s] }
            for i in 0..<dv { out[offset + i] = 0 }
            for s in 0...t {
                let w = weights[s] / total, v = (s * f.kvHeads + g) * dv
                for i in 0..<dv { out[offset + i] += w * f.values[v + i] }
            }
        }
        for g in 0..<f.kvHeads {
            for h in (g * group)..<((g + 1) * group) {
                for t in 0..<rows {
                    let q = (t * f.heads + h) * d
                    for s in 0...t {
                        let k = (s * f.kvHeads + g) * d
                        var dot: Float = 0
                        for i in 0..<d { dot += f.queries[q + i] * f.keys[k + i] }
                        logits[t * rows + s] = dot * scale
                    }
                    attend(t, removing: nil, h: h, g: g, into: &output, at: t * dv)
                }
                for pair in 0..<half {
                    var change = 0.0
                    for t in 0..<rows {
                        attend(t, removing: pair, h: h, g: g, into: &changed, at: 0)
                        for i in 0..<dv { let e = changed[i] - output[t * dv + i]; change += Double(e * e) }
                    }
                    result[g][pair] += change / Double(rows)
                }
            }
        }
        return result
    }
}

/// Value channels are scored by the energy they put into the attention output: `mean_t v_c²` times the
/// squared norm of the `o_proj` columns the channel feeds (one per query head of the group).
enum ValueScore {
    /// `[kvHeads][d]` scores of one layer; `output` is that layer's `o_proj` `[hidden, heads d]` in f32.
    static func scores(_ f: FreshProjections, output: [Float], hidden: Int) -> [[Double]] {
        let dv = f.valueDimension, group = f.heads / f.kvHeads, width = f.heads * dv
        return (0..<f.kvHeads).map { g in
            (0..<dv).map { c in
                var energy = 0.0
                for t in 0..<f.rows { let v = Double(f.values[(t * f.kvHeads + g) * dv + c]); energy += v * v }
                var column = 0.0
                for h in (g * group)..<((g + 1) * group) {
                    for r in 0..<hidden { let w = Double(output[r * width + h * dv + c]); column += w * w }
                }
                return energy / Double(f.rows) * column
            }
        }
    }
}
