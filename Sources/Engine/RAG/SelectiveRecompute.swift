import Cache
import Foundation
import Kernels
import Models

extension PromptComposer {
    /// CacheBlend on a cache holding the prefix and re-anchored chunks (at `chunkPositions`, in order):
    /// every chunk token and the query run through layers below the check layer, which is exactly full
    /// recompute there; at the check layer a `LayerProbe` ranks the chunk tokens by how much their fresh
    /// K/V would change the query's view (see `BlendParameters.Deviation`) and the top `ratio` go on being
    /// recomputed with the query; the rest keep the reused K/V. Works for every key-storage mode: the
    /// ranking reads the cache through its views.
    /// - Returns: the query's logits and the positions of the chunk tokens recomputed past the check layer.
    func blendForward(prompt: RAGPrompt, cache: KVCache, chunkPositions: [Int], queryPositions: [Int], parameters: BlendParameters,
                      attention: ((Int, [Float]) -> Void)?) throws -> (Logits, [Int]) {
        let chunkTokens = prompt.chunks.flatMap { $0 }
        let chunkCount = chunkTokens.count
        let keepCount = Int((Double(chunkCount) * parameters.ratio).rounded())
        let layer = min(parameters.checkLayer, model.config.layers - 1)
        // The query sees the prefix and the chunks at the check layer; its own cells are not written yet.
        let querySet = Set(queryPositions)
        let visible = cache.positions(of: 0).filter { !querySet.contains($0) }
        var recomputed: [Int] = []
        let probe = LayerProbe(selectionLayer: layer, select: { fresh in
            let scores = try BlendRanking(fresh: fresh, chunkRows: chunkCount, cache: cache, visible: visible)
                .scores(parameters.deviation)
            let chosen = scores.indices.sorted { scores[$0] > scores[$1] }.prefix(keepCount).sorted()
            recomputed = chosen.map { chunkPositions[$0] }
            return chosen + Array(chunkCount..<fresh.rows)
        }, attention: attention)
        let logits = try model.forward(tokens: chunkTokens + prompt.query, positions: chunkPositions + queryPositions, sequence: 0,
                                       cache: cache, outputs: .last, probe: probe)
        return (logits, recomputed)
    }
}

/// How much recomputing each chunk row would help, from the fresh projections at the check layer (chunk
/// rows first, then query rows) and what the cache holds there (the reused K/V), read through the cache's
/// views so that it is right for every key-storage mode. Shapes: `d` head size, `kv` kv heads.
struct BlendRanking {
    let fresh: FreshProjections
    let chunkRows: Int
    /// Positions the query attends to at the check layer (prefix and chunks), ascending.
    let visible: [Int]
    /// Reused keys (rotated) and values of the chunk rows: `[chunkRows, kv, d]`.
    let cachedKeys: [Float]
    let cachedValues: [Float]
    /// Keys and values at `visible`: `[visible, kv, d]`.
    let visibleValues: [Float]
    /// Attention of the query rows over `visible` with the reused keys: `[queryRows, heads, visible]`.
    let weights: [Float]

    init(fresh: FreshProjections, chunkRows: Int, cache: KVCache, visible: [Int]) throws {
        self.fresh = fresh
        self.chunkRows = chunkRows
        self.visible = visible
        let chunkPositions = Array(fresh.positions.prefix(chunkRows))
        cachedKeys = try cache.keys(layer: fresh.layer, sequence: 0, positions: chunkPositions)
        cachedValues = try cache.values(layer: fresh.layer, sequence: 0, positions: chunkPositions)
        visibleValues = try cache.values(layer: fresh.layer, sequence: 0, positions: visible)
        let qWidth = fresh.heads * fresh.keyDimension
        let queryQueries = Array(fresh.queries[(chunkRows * qWidth)...])
        weights = try cache.attentionWeights(layer: fresh.layer, sequence: 0, queries: queryQueries, heads: fresh.heads, positions: visible)
    }

    var queryRows: Int { fresh.rows - chunkRows }

    func scores(_ deviation: BlendParameters.Deviation) -> [Float] {
        switch deviation {
        case .keys, .values, .both: return kvDeviation(keys: deviation != .values, values: deviation != .keys)
        case .attention: return attentionWeighted()
        case .output: return outputChange()
        }
    }

    /// Squared L2 distance of fresh and reused K (and/or V) per row and kv head: `[chunkRows, kv]`.
    private func deviations(keys useKeys: Bool, values useValues: Bool) -> [Float] {
        let kv = fresh.kvHeads, dk = fresh.keyDimension, dv = fresh.valueDimension
        var out = [Float](repeating: 0, count: chunkRows * kv)
        for row in 0..<chunkRows {
            for g in 0..<kv {
                var total: Float = 0
                let keyBase = (row * kv + g) * dk
                let valueBase = (row * kv + g) * dv
                if useKeys { for i in keyBase..<(keyBase + dk) { let e = fresh.keys[i] - cachedKeys[i]; total += e * e } }
                if useValues { for i in valueBase..<(valueBase + dv) { let e = fresh.values[i] - cachedValues[i]; total += e * e } }
                out[row * kv + g] = total
            }
        }
        return out
    }

    /// The CacheBlend paper's ranking: K and/or V deviation summed over kv heads.
    private func kvDeviation(keys: Bool, values: Bool) -> [Float] {
        let kv = fresh.kvHeads
        let perHead = deviations(keys: keys, values: values)
        return (0..<chunkRows).map { row in (0..<kv).reduce(Float(0)) { $0 + perHead[row * kv + $1] } }
    }

    /// Index in `visible` of each chunk row (chunk positions are visible by construction).
    private var visibleIndexOfChunkRow: [Int] {
        var index: [Int: Int] = [:]
        for (i, position) in visible.enumerated() { index[position] = i }
        return (0..<chunkRows).map { index[fresh.positions[$0]] ?? -1 }
    }

    /// K+V deviation per head weighted by the mean attention the query rows give the row.
    private func attentionWeighted() -> [Float] {
        let heads = fresh.heads, kv = fresh.kvHeads, n = visible.count
        let group = heads / kv
        let perHead = deviations(keys: true, values: true)
        let columns = visibleIndexOfChunkRow
        return (0..<chunkRows).map { row in
            guard columns[row] >= 0, queryRows > 0 else { return 0 }
            var total: Float = 0
            for h in 0..<heads {
                var mean: Float = 0
                for q in 0..<queryRows { mean += weights[(q * heads + h) * n + columns[row]] }
                total += mean / Float(queryRows) * perHead[row * kv + h / group]
            }
            return total
        }
    }

    /// First-order change of the query rows' attention output if row `j` got its fresh K/V: per query row
    /// and head, `p_j · ‖Δv_j + Δs_j (v_j − ō)‖`, with `p` the attention over the reused cache, `ō` its
    /// output and `Δs_j = q · Δk_j / √d`; summed over query rows and heads.
    private func outputChange() -> [Float] {
        let heads = fresh.heads, kv = fresh.kvHeads, dk = fresh.keyDimension, dv = fresh.valueDimension, n = visible.count
        let group = heads / kv
        let keyWidth = kv * dk
        let valueWidth = kv * dv
        let qWidth = heads * dk
        let scale = 1 / Float(fresh.headDimension).squareRoot()
        let columns = visibleIndexOfChunkRow
        var scores = [Float](repeating: 0, count: chunkRows)
        var mean = [Float](repeating: 0, count: dv)
        for q in 0..<queryRows {
            for h in 0..<heads {
                let g = h / group
                let p = (q * heads + h) * n
                for i in 0..<dv { mean[i] = 0 }
                for j in 0..<n {
                    let weight = weights[p + j]
                    let v = j * valueWidth + g * dv
                    for i in 0..<dv { mean[i] += weight * visibleValues[v + i] }
                }
                let query = (chunkRows + q) * qWidth + h * dk
                for row in 0..<chunkRows where columns[row] >= 0 {
                    let k = row * keyWidth + g * dk
                    let v = row * valueWidth + g * dv
                    var ds: Float = 0
                    for i in 0..<dk { ds += fresh.queries[query + i] * (fresh.keys[k + i] - cachedKeys[k + i]) }
                    ds *= scale
                    var norm: Float = 0
                    for i in 0..<dv {
                        let e = (fresh.values[v + i] - cachedValues[v + i]) + ds * (cachedValues[v + i] - mean[i])
                        norm += e * e
                    }
                    scores[row] += weights[p + columns[row]] * norm.squareRoot()
                }
            }
        }
        return scores
    }
}
