import Kernels
import Models

/// How `channel` pruning (the RoPE-blind baseline) chooses; `rap` keeps whole RoPE pairs instead.
public enum PruningMethod: String, CaseIterable, Sendable, Codable {
    /// Whole RoPE pairs (dims `i` and `i + d/2`), each at its frequency, scored by a `PairScore`.
    case rap
    /// Single q/k channels scored one by one (`ChannelScore`), blind to which channels rotate together, in the
    /// same cache budget as `rap` (its rotation slots): a channel whose partner is dropped still occupies a
    /// whole slot, beside a zero row.
    case channel
}

/// The RoPE-blind channel score: for channel `c` of KV head `g`, `Σ_h mean_t |q_t,h,c| · mean_s |k_s,g,c|`
/// over the query heads `h` of the group, on the canonical (unrotated) projections, i.e. the magnitude of
/// what each row of `q_proj` and `k_proj` produces: what a method sees that treats the rows as independent.
enum ChannelScore {
    /// `[kvHeads][d]` scores of one layer (higher: more important); `rotary` is the unpruned model's RoPE,
    /// used to rotate the calibration queries and keys back to position 0.
    static func energy(_ fresh: FreshProjections, rotary: RotaryEmbedding) -> [[Double]] {
        let d = fresh.keyDimension, rows = fresh.rows, group = fresh.heads / fresh.kvHeads
        var queries = fresh.queries, keys = fresh.keys
        let half = rotary.tableWidth
        var cos = [Float](repeating: 0, count: rows * half), sin = cos
        let back = fresh.positions.map { -$0 }
        back.withUnsafeBufferPointer { positions in
            cos.withUnsafeMutableBufferPointer { c in
                sin.withUnsafeMutableBufferPointer { s in
                    guard let c = c.baseAddress, let s = s.baseAddress else { return }
                    rotary.table(positions: positions, cos: c, sin: s)
                    queries.withUnsafeMutableBufferPointer { q in
                        guard let q = q.baseAddress else { return }
                        rotary.rotate(q, rows: rows, heads: fresh.heads, rowStride: fresh.heads * d, cos: c, sin: s)
                    }
                    keys.withUnsafeMutableBufferPointer { k in
                        guard let k = k.baseAddress else { return }
                        rotary.rotate(k, rows: rows, heads: fresh.kvHeads, rowStride: fresh.kvHeads * d, cos: c, sin: s)
                    }
                }
            }
        }
        return (0..<fresh.kvHeads).map { g in
            (0..<d).map { c in
                var q = 0.0, k = 0.0
                for t in 0..<rows {
                    for h in (g * group)..<((g + 1) * group) { q += Double(abs(queries[(t * fresh.heads + h) * d + c])) }
                    k += Double(abs(keys[(t * fresh.kvHeads + g) * d + c]))
                }
                return (q / Double(rows)) * (k / Double(rows))
            }
        }
    }
}
