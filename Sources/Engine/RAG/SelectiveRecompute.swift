import Cache
import Foundation
import Kernels
import Models

extension PromptComposer {
    /// CacheBlend on a cache holding the prefix and re-anchored chunks (cells `chunkCells`, in order):
    /// every chunk token and the query run through layers below `checkLayer`, which is exactly full
    /// recompute there; at `checkLayer` the fresh K/V of each chunk token are compared with the reused ones
    /// and the `ratio` with the highest score (see `BlendParameters.Deviation`) go on being recomputed with
    /// the query; the rest keep the reused K/V.
    /// - Returns: the query's logits and the positions of the chunk tokens recomputed past the check layer.
    func blendForward(prompt: RAGPrompt, cache: KVCache, chunkCells: [Int], queryPositions: [Int], parameters: BlendParameters,
                      capture: (([Float], Int) -> Void)?) throws -> (Logits, [Int]) {
        let chunkTokens = prompt.chunks.flatMap { $0 }
        let chunkPositions = chunkCells.map { Int(cache.positions[$0]) }
        let queryFirst = try cache.reserve(sequence: 0, positions: queryPositions)
        let tokens = chunkTokens + prompt.query
        let positions = chunkPositions + queryPositions
        let cells = chunkCells + Array(queryFirst..<(queryFirst + prompt.query.count))
        let config = model.config
        let chunkCount = chunkTokens.count
        let keepCount = Int((Double(chunkCount) * parameters.ratio).rounded())
        let layer = min(parameters.checkLayer, config.layers - 1)
        var recomputed: [Int] = []
        let selection = LlamaModel.RowSelection(layer: layer) { qkv, rows, rowCells, angles in
            // Rows here are all chunk rows then the query rows (nothing was dropped before this layer).
            let scores = Self.recomputeScores(qkv: qkv, chunkRows: min(chunkCount, rows), rows: rows, cells: rowCells, angles: angles,
                                              cache: cache, layer: layer, config: config, deviation: parameters.deviation)
            let chosen = scores.indices.sorted { scores[$0] > scores[$1] }.prefix(keepCount).sorted()
            recomputed = chosen.map { chunkPositions[$0] }
            return chosen + Array(chunkCount..<rows)
        }
        let x = model.embedForComposition(tokens)
        let remaining = model.runForComposition(x, positions: positions, cells: cells, cache: cache, selection: selection,
                                                capture: capture.map { handler in { _, weights in handler(weights, weights.count / max(config.heads * cache.used, 1)) } })
        let logits = model.headForComposition(x, count: remaining)
        return (logits, recomputed)
    }

    /// How much recomputing each chunk row would help, `[chunkRows]`, from the fresh `qkv` (`[rows, qkvWidth]`:
    /// rotated queries, canonical keys, values) of chunk rows then query rows at `layer`, and the reused K/V
    /// in their cells. The cache must hold canonical keys (`.anchored`).
    static func recomputeScores(qkv: UnsafePointer<Float>, chunkRows: Int, rows: Int, cells: [Int], angles: RotationTable, cache: KVCache, layer: Int,
                                config: ModelConfig, deviation: BlendParameters.Deviation) -> [Float] {
        if deviation == .output {
            return outputError(qkv: qkv, chunkRows: chunkRows, rows: rows, cells: cells, angles: angles, cache: cache, layer: layer,
                               config: config)
        }
        let d = config.headDimension
        let kvHeads = config.kvHeads
        let qWidth = config.heads * d
        let kvWidth = kvHeads * d
        let cachedKeys = (cache.storage == .anchored ? cache.canonicalKeys[layer] : cache.keys[layer]).pointer
        let cachedValues = cache.values[layer].pointer
        // [chunkRows, kvHeads] squared deviation of K, of V.
        var keyDeviation = [Float](repeating: 0, count: chunkRows * kvHeads)
        var valueDeviation = [Float](repeating: 0, count: chunkRows * kvHeads)
        for row in 0..<chunkRows {
            let fresh = qkv + row * config.qkvWidth
            let cell = cells[row]
            for g in 0..<kvHeads {
                keyDeviation[row * kvHeads + g] = squaredDistance(fresh + qWidth + g * d, cachedKeys + cell * kvWidth + g * d, count: d)
                valueDeviation[row * kvHeads + g] = squaredDistance(fresh + qWidth + kvWidth + g * d, cachedValues + cell * kvWidth + g * d,
                                                                    count: d)
            }
        }
        if deviation == .attention {
            let weights = queryAttention(qkv: qkv, chunkRows: chunkRows, rows: rows, cells: cells, cache: cache, layer: layer, config: config)
            let group = config.heads / kvHeads
            return (0..<chunkRows).map { row in
                (0..<config.heads).reduce(Float(0)) { total, h in
                    let g = h / group
                    return total + weights[row * config.heads + h] * (keyDeviation[row * kvHeads + g] + valueDeviation[row * kvHeads + g])
                }
            }
        }
        return (0..<chunkRows).map { row in
            (0..<kvHeads).reduce(Float(0)) { total, g in
                total + (deviation == .values ? 0 : keyDeviation[row * kvHeads + g])
                    + (deviation == .keys ? 0 : valueDeviation[row * kvHeads + g])
            }
        }
    }

    /// The visible cells for the query rows (every cell of sequence 0 but the query's own, not yet written
    /// at this layer) and, per cell, the chunk row it holds or -1.
    private static func visibleCells(cells: [Int], chunkRows: Int, cache: KVCache) -> (visible: [Int], chunkRow: [Int]) {
        let queryCells = Set(cells[chunkRows...])
        let visible = (0..<cache.used).filter { cache.sequences[$0] == 0 && !queryCells.contains($0) }
        var chunkRow = [Int](repeating: -1, count: cache.used)
        for row in 0..<chunkRows { chunkRow[cells[row]] = row }
        return (visible, chunkRow)
    }

    /// Softmax attention `[visible]` of query vector `q` over the cached keys of `visible` cells for kv head `g`.
    private static func attention(_ q: UnsafePointer<Float>, keys: UnsafePointer<Float>, visible: [Int], g: Int, d: Int, kvWidth: Int,
                                  into p: inout [Float]) {
        let scale = 1 / Float(d).squareRoot()
        for (i, cell) in visible.enumerated() {
            var dot: Float = 0
            let k = keys + cell * kvWidth + g * d
            for j in 0..<d { dot += q[j] * k[j] }
            p[i] = dot * scale
        }
        p.withUnsafeMutableBufferPointer { buffer in
            if let base = buffer.baseAddress { Elementwise.softmax(base, count: buffer.count) }
        }
    }

    /// First-order change of the query rows' attention output at `layer` if chunk row `j` got its fresh K/V:
    /// per query row and head, `p_j · ‖Δv_j + Δs_j (v_j − ō)‖`, where `p` is the attention over the reused
    /// cache, `ō` its output and `Δs_j` the change of row `j`'s score; summed over rows and heads, `[chunkRows]`.
    static func outputError(qkv: UnsafePointer<Float>, chunkRows: Int, rows: Int, cells: [Int], angles: RotationTable, cache: KVCache,
                            layer: Int, config: ModelConfig) -> [Float] {
        let d = config.headDimension
        let heads = config.heads
        let kvHeads = config.kvHeads
        let group = heads / kvHeads
        let qWidth = heads * d
        let kvWidth = kvHeads * d
        let keys = cache.keys[layer].pointer
        let values = cache.values[layer].pointer
        let (visible, chunkRow) = visibleCells(cells: cells, chunkRows: chunkRows, cache: cache)
        // Fresh keys rotated to their positions minus the cached rotated keys, and fresh minus cached values: [chunkRows, kvWidth].
        let keyDelta = UnsafeMutablePointer<Float>.allocate(capacity: max(chunkRows * kvWidth, 1))
        let valueDelta = UnsafeMutablePointer<Float>.allocate(capacity: max(chunkRows * kvWidth, 1))
        defer {
            keyDelta.deallocate()
            valueDelta.deallocate()
        }
        for row in 0..<chunkRows {
            let fresh = qkv + row * config.qkvWidth
            (keyDelta + row * kvWidth).update(from: fresh + qWidth, count: kvWidth)
            (valueDelta + row * kvWidth).update(from: fresh + qWidth + kvWidth, count: kvWidth)
        }
        RotaryEmbedding.rotate(keyDelta, rows: chunkRows, heads: kvHeads, headDimension: d, rowStride: kvWidth, cos: angles.cos, sin: angles.sin)
        for row in 0..<chunkRows {
            let cell = cells[row]
            for i in 0..<kvWidth {
                keyDelta[row * kvWidth + i] -= keys[cell * kvWidth + i]
                valueDelta[row * kvWidth + i] -= values[cell * kvWidth + i]
            }
        }
        let scale = 1 / Float(d).squareRoot()
        var scores = [Float](repeating: 0, count: chunkRows)
        var p = [Float](repeating: 0, count: visible.count)
        let mean = UnsafeMutablePointer<Float>.allocate(capacity: d)
        defer { mean.deallocate() }
        for queryRow in chunkRows..<rows {
            for h in 0..<heads {
                let q = qkv + queryRow * config.qkvWidth + h * d
                let g = h / group
                attention(q, keys: keys, visible: visible, g: g, d: d, kvWidth: kvWidth, into: &p)
                mean.initialize(repeating: 0, count: d)
                for (index, cell) in visible.enumerated() {
                    let v = values + cell * kvWidth + g * d
                    let weight = p[index]
                    for i in 0..<d { mean[i] += weight * v[i] }
                }
                for (index, cell) in visible.enumerated() where chunkRow[cell] >= 0 {
                    let row = chunkRow[cell]
                    let dk = keyDelta + row * kvWidth + g * d
                    let dv = valueDelta + row * kvWidth + g * d
                    var ds: Float = 0
                    for i in 0..<d { ds += q[i] * dk[i] }
                    ds *= scale
                    let v = values + cell * kvWidth + g * d
                    var norm: Float = 0
                    for i in 0..<d {
                        let e = dv[i] + ds * (v[i] - mean[i])
                        norm += e * e
                    }
                    scores[row] += p[index] * norm.squareRoot()
                }
            }
        }
        return scores
    }

    /// Mean attention weight `[chunkRows, heads]` that the query rows (`rows - chunkRows` last rows of `qkv`,
    /// rotated) give each chunk cell at `layer`, over every visible cell with the cached re-anchored keys. The
    /// softmax includes the prefix cells, so heads that rest on the attention sink weigh little.
    static func queryAttention(qkv: UnsafePointer<Float>, chunkRows: Int, rows: Int, cells: [Int], cache: KVCache, layer: Int,
                               config: ModelConfig) -> [Float] {
        let d = config.headDimension
        let heads = config.heads
        let group = heads / config.kvHeads
        let kvWidth = config.kvHeads * d
        let keys = cache.keys[layer].pointer
        let (visible, chunkRow) = visibleCells(cells: cells, chunkRows: chunkRows, cache: cache)
        let queryRows = rows - chunkRows
        var weights = [Float](repeating: 0, count: chunkRows * heads)
        var p = [Float](repeating: 0, count: visible.count)
        for queryRow in chunkRows..<rows {
            for h in 0..<heads {
                attention(qkv + queryRow * config.qkvWidth + h * d, keys: keys, visible: visible, g: h / group, d: d, kvWidth: kvWidth, into: &p)
                for (i, cell) in visible.enumerated() where chunkRow[cell] >= 0 {
                    weights[chunkRow[cell] * heads + h] += p[i] / Float(queryRows)
                }
            }
        }
        return weights
    }

    static func squaredDistance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var total: Float = 0
        for i in 0..<count {
            let d = a[i] - b[i]
            total += d * d
        }
        return total
    }
}
