import CBLAS
import CKernels

/// Which cache cells one query may attend to: cells of its own sequence whose position is at most the
/// query's (causal by position, not by storage order) and, with a sliding window `w`, greater than `p - w`.
public struct AttentionMask {
    /// `[cells]` position of each cell.
    public let cellPositions: UnsafePointer<Int32>
    /// `[cells]` owning sequence of each cell; a free cell holds a negative id.
    public let cellSequences: UnsafePointer<Int32>
    /// `[queries]` position of each query.
    public let queryPositions: UnsafePointer<Int32>
    /// The sequence every query belongs to.
    public let sequence: Int32
    /// Sliding window in positions, or nil for full attention.
    public let window: Int32?

    public init(cellPositions: UnsafePointer<Int32>, cellSequences: UnsafePointer<Int32>, queryPositions: UnsafePointer<Int32>,
                sequence: Int32, window: Int32?) {
        self.cellPositions = cellPositions
        self.cellSequences = cellSequences
        self.queryPositions = queryPositions
        self.sequence = sequence
        self.window = window
    }

    /// Sets the scores of forbidden cells to `-infinity`. scores: `[cells]` for query `query`.
    @inline(__always)
    func apply(query: Int, scores: UnsafeMutablePointer<Float>, cells: Int) {
        let p = queryPositions[query]
        let lowest = window.map { p - $0 } ?? Int32.min
        for c in 0..<cells {
            let visible = cellSequences[c] == sequence && cellPositions[c] <= p && cellPositions[c] > lowest
            scores[c] = visible ? scores[c] : -.infinity
        }
    }

    /// One past the last cell that any of queries `[first, first + count)` can see: the columns a score
    /// block needs (about half of them for causal prefill).
    func visibleLimit(queries first: Int, count: Int, cells: Int) -> Int {
        var highest = Int32.min
        for t in first..<(first + count) { highest = max(highest, queryPositions[t]) }
        var limit = 0
        for c in 0..<cells where cellSequences[c] == sequence && cellPositions[c] <= highest { limit = c + 1 }
        return limit
    }
}

/// Scaled dot-product attention over a KV cache with grouped-query heads.
///
/// `out[t, h, :] = Σ_c softmax_c(q[t, h, :] · K[c, h / g, :] · scale + mask) V[c, h / g, :]` where
/// `g = heads / kvHeads`. One query (decode) and many (prefill) each run one fused C kernel; for a caller that
/// wants the prefill's attention weights they are computed apart, one `sgemm` per head and query block.
public enum Attention {
    /// Head counts and widths. A RoPE-aligned pruned model has keys (and queries) `keyDimension` wide and
    /// values `valueDimension` wide, both at most `headDimension`, which still sets the score scale
    /// `1 / sqrt(headDimension)` (the pruned dimensions contribute nothing; the rest is unchanged).
    public struct Shape {
        public let heads: Int
        public let kvHeads: Int
        public let headDimension: Int
        public let keyDimension: Int
        public let valueDimension: Int
        public init(heads: Int, kvHeads: Int, headDimension: Int, keyDimension: Int? = nil, valueDimension: Int? = nil) {
            self.heads = heads
            self.kvHeads = kvHeads
            self.headDimension = headDimension
            self.keyDimension = keyDimension ?? headDimension
            self.valueDimension = valueDimension ?? headDimension
        }
    }

    /// Query rows per score block of the weight capture: bounds its scratch to `blockRows * cells` floats.
    public static let blockRows = 128

    /// Floats of the `scores` scratch that `compute` needs for `queries` queries over `cells` cells.
    public static func scratchCount(shape: Shape, queries: Int, cells: Int, capturing: Bool) -> Int {
        let cells = max(cells, 1)
        if queries == 1 { return ck_attention_decode_workspace(Int32(shape.heads), Int32(cells), Int32(shape.valueDimension)) }
        let workspace = ck_attention_prefill_workspace(Int32(shape.heads), Int32(shape.kvHeads), Int32(shape.keyDimension),
                                                       Int32(shape.valueDimension))
        return workspace + (capturing ? blockRows * cells : 0)
    }

    /// - q: `[queries, heads, dk]`; keys: `[cells, kvHeads, dk]`; values: `[cells, kvHeads, dv]`;
    ///   out: `[queries, heads, dv]`; scores: scratch of at least `scratchCount(...)` floats.
    ///   keyRotation: for pre-RoPE caches, per-cell angles (one layer's part of `[cells, tableWidth]` rows) that
    ///   keys are rotated by inside attention (decode: fused into the dot products; prefill: into
    ///   `rotatedKeys`, `[cells, kvHeads, dk]`).
    ///   probabilities, if given: `[queries, heads, cells]` receives the attention weights (for experiments).
    public static func compute(shape: Shape, q: UnsafePointer<Float>, queries: Int,
                               keys: UnsafePointer<Float>, values: UnsafePointer<Float>, cells: Int,
                               mask: AttentionMask, scores: UnsafeMutablePointer<Float>,
                               out: UnsafeMutablePointer<Float>,
                               keyRotation: RotationTable? = nil, rotatedKeys: UnsafeMutablePointer<Float>? = nil,
                               probabilities: UnsafeMutablePointer<Float>? = nil) {
        let dk = shape.keyDimension
        let dv = shape.valueDimension
        let scale = 1 / Float(shape.headDimension).squareRoot()
        let keyStride = shape.kvHeads * dk
        if queries == 1 {
            // Decode: segments of cells streamed (scores, softmax, weighted values), merged; segments across threads.
            ck_attention_decode(q, keys, values, Int32(cells), Int32(shape.heads), Int32(shape.kvHeads), Int32(dk), Int32(dv), scale,
                                mask.cellPositions, mask.cellSequences, mask.queryPositions[0], mask.sequence,
                                mask.window.map { mask.queryPositions[0] - $0 } ?? Int32.min,
                                keyRotation?.cos, keyRotation?.sin, Int32(keyRotation?.rowStride ?? dk / 2),
                                Int32(keyRotation?.heads ?? 1), scores, out, probabilities)
            return
        }
        var keys = keys
        if let keyRotation, let rotatedKeys {
            // Pre-RoPE prefill: every cached key rotated to its cell's position for this step.
            rotatedKeys.update(from: keys, count: cells * keyStride)
            RotaryEmbedding.rotate(rotatedKeys, rows: cells, heads: shape.kvHeads, headDimension: dk, rowStride: keyStride,
                                   table: keyRotation)
            keys = UnsafePointer(rotatedKeys)
        }
        // Prefill: scores, softmax and values per tile of cells, both cores, no score matrix. The output never
        // depends on whether weights are captured.
        let workspace = ck_attention_prefill_workspace(Int32(shape.heads), Int32(shape.kvHeads), Int32(dk), Int32(dv))
        ck_attention_prefill(q, Int32(queries), keys, values, Int32(cells), Int32(shape.heads), Int32(shape.kvHeads),
                             Int32(dk), Int32(dv), scale, mask.cellPositions, mask.cellSequences, mask.queryPositions,
                             mask.sequence, mask.window == nil ? 0 : 1, mask.window ?? 0, scores, out)
        guard let probabilities else { return }
        capture(shape: shape, q: q, queries: queries, keys: keys, cells: cells, mask: mask, scores: scores + workspace,
                probabilities: probabilities)
    }

    /// The attention weights of `compute`'s prefill, `[queries, heads, cells]`: one `sgemm` per head and block of
    /// `blockRows` queries, masked, softmax per row. scores: `blockRows * cells` floats.
    private static func capture(shape: Shape, q: UnsafePointer<Float>, queries: Int, keys: UnsafePointer<Float>, cells: Int,
                                mask: AttentionMask, scores: UnsafeMutablePointer<Float>, probabilities: UnsafeMutablePointer<Float>) {
        let dk = shape.keyDimension
        let group = shape.heads / shape.kvHeads
        let scale = 1 / Float(shape.headDimension).squareRoot()
        let qStride = shape.heads * dk
        let keyStride = shape.kvHeads * dk
        let limits = stride(from: 0, to: queries, by: blockRows).map {
            mask.visibleLimit(queries: $0, count: min(blockRows, queries - $0), cells: cells)
        }
        for h in 0..<shape.heads {
            let k = keys + (h / group) * dk
            var start = 0
            while start < queries {
                let rows = min(blockRows, queries - start)
                let limit = limits[start / blockRows]
                guard limit > 0 else {
                    for row in 0..<rows { (probabilities + ((start + row) * shape.heads + h) * cells).update(repeating: 0, count: cells) }
                    start += rows
                    continue
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(limit), Int32(dk), scale,
                            q + start * qStride + h * dk, Int32(qStride), k, Int32(keyStride), 0, scores, Int32(limit))
                for row in 0..<rows {
                    let s = scores + row * limit
                    mask.apply(query: start + row, scores: s, cells: limit)
                    Elementwise.softmax(s, count: limit)
                    let target = probabilities + ((start + row) * shape.heads + h) * cells
                    target.update(from: s, count: limit)
                    (target + limit).update(repeating: 0, count: cells - limit)
                }
                start += rows
            }
        }
    }
}
