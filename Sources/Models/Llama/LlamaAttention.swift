import Cache
import Kernels

/// Grouped-query self-attention with RoPE over a KV cache, as `LlamaAttention` in transformers (with
/// Qwen2's q/k/v biases and Mistral's sliding window).
struct LlamaAttention {
    let config: ModelConfig
    let rotary: RotaryEmbedding

    /// q|k|v of `rows` rows: `normed` `[rows, hidden]` -> `qkv` `[rows, qkvWidth]`, queries rotated by
    /// the rows' angles for `layer` (`cos`, `sin`: `[rows, rotary.tableWidth]`), keys left canonical for the
    /// cache to place. `panel` is scratch for 16-bit weights (`Matrix.apply`).
    func project(_ normed: UnsafePointer<Float>, rows: Int, layer: Int, weights: BlockWeights, cos: UnsafePointer<Float>,
                 sin: UnsafePointer<Float>, into qkv: UnsafeMutablePointer<Float>, panel: inout Scratch) {
        weights.qkv.apply(normed, count: rows, into: qkv, panel: &panel)
        if let bias = weights.qkvBias { Elementwise.addBias(bias.pointer, rows: rows, width: config.qkvWidth, into: qkv) }
        rotary.rotate(qkv, rows: rows, heads: config.heads, rowStride: config.qkvWidth, cos: cos, sin: sin, layer: layer)
    }

    /// Writes the rows' K/V into their `cells` of `layer`, attends (each segment's rows over its sequence's
    /// cells), and projects all rows at once: `projected` `[rows, hidden]`.
    /// - qkv: `[rows, qkvWidth]` from `project`; queries: scratch `[rows, heads dk]`; attended: scratch `[rows, heads dv]`.
    /// - positions: per segment, its rows' positions.
    /// - Returns: the attention weights `[rows, heads, n]` when `captureWeights` (one segment), else empty.
    func attend(qkv: UnsafePointer<Float>, rows: Int, layer: Int, cells: [Int], segments: [RowSegment], positions: [[Int32]],
                cache: KVCache, weights: BlockWeights, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>,
                queries: UnsafeMutablePointer<Float>, attended: UnsafeMutablePointer<Float>,
                projected: UnsafeMutablePointer<Float>, captureWeights: Bool, panel: inout Scratch) -> [Float] {
        let half = rotary.tableWidth
        let qWidth = config.heads * config.keyDimension
        let kvWidth = config.kvHeads * config.keyDimension
        let qkvWidth = config.qkvWidth
        // One write per run of consecutive cells (a whole prompt is one run; selected rows are a few).
        var start = 0
        while start < rows {
            var end = start + 1
            while end < rows, cells[end] == cells[end - 1] + 1 { end += 1 }
            cache.write(layer: layer, first: cells[start], count: end - start, canonicalKeys: qkv + start * qkvWidth + qWidth,
                        newValues: qkv + start * qkvWidth + qWidth + kvWidth, rowStride: qkvWidth,
                        table: RotationTable(rows: end - start, cos: cos + start * half, sin: sin + start * half))
            start = end
        }
        // Queries packed to [rows, heads, dk] for the attention kernel.
        for row in 0..<rows { (queries + row * qWidth).update(from: qkv + row * qkvWidth, count: qWidth) }
        let vWidth = config.heads * config.valueDimension
        var captured: [Float] = []
        for (segment, segmentPositions) in zip(segments, positions) where !segment.rows.isEmpty {
            let first = segment.rows.lowerBound
            captured += cache.attend(layer: layer, queries: queries + first * qWidth, rows: segment.rows.count,
                                     queryPositions: segmentPositions, sequence: segment.sequence, heads: config.heads,
                                     window: config.slidingWindow, out: attended + first * vWidth, weights: captureWeights)
        }
        weights.output.apply(attended, count: rows, into: projected, panel: &panel)
        return captured
    }
}
