import Cache
import Models

extension PromptComposer {
    /// CacheBlend on a cache holding the prefix and re-anchored chunks (cells `chunkCells`, in order):
    /// every chunk token and the query run through layers below `checkLayer`; at `checkLayer` the fresh K/V
    /// of each chunk token are compared with the reused ones and the `ratio` that deviate most (squared L2
    /// over K and V) go on being recomputed with the query; the rest keep the reused K/V.
    /// - Returns: the query's logits and the number of chunk tokens recomputed past the check layer.
    func blendForward(prompt: RAGPrompt, cache: KVCache, chunkCells: [Int], queryPositions: [Int], parameters: BlendParameters,
                      capture: (([Float], Int) -> Void)?) throws -> (Logits, Int) {
        let chunkTokens = prompt.chunks.flatMap { $0 }
        let chunkPositions = chunkCells.map { Int(cache.positions[$0]) }
        let queryFirst = try cache.reserve(sequence: 0, positions: queryPositions)
        let tokens = chunkTokens + prompt.query
        let positions = chunkPositions + queryPositions
        let cells = chunkCells + Array(queryFirst..<(queryFirst + prompt.query.count))
        let config = model.config
        let qWidth = config.heads * config.headDimension
        let kvWidth = config.kvHeads * config.headDimension
        let chunkCount = chunkTokens.count
        let keepCount = Int((Double(chunkCount) * parameters.ratio).rounded())
        var recomputed = 0
        let selection = LlamaModel.RowSelection(layer: min(parameters.checkLayer, config.layers - 1)) { qkv, rows, rowCells in
            // Rows here are all chunk rows then the query rows (nothing was dropped before this layer).
            let layer = min(parameters.checkLayer, config.layers - 1)
            var deviations: [(row: Int, deviation: Float)] = []
            for row in 0..<min(chunkCount, rows) {
                let fresh = qkv + row * config.qkvWidth
                let cell = rowCells[row]
                let cachedKey = (cache.storage == .anchored ? cache.canonicalKeys[layer] : cache.keys[layer]).pointer + cell * kvWidth
                let cachedValue = cache.values[layer].pointer + cell * kvWidth
                var total: Float = 0
                for i in 0..<kvWidth {
                    let dk = fresh[qWidth + i] - cachedKey[i]
                    let dv = fresh[qWidth + kvWidth + i] - cachedValue[i]
                    total += dk * dk + dv * dv
                }
                deviations.append((row, total))
            }
            let chosen = deviations.sorted { $0.deviation > $1.deviation }.prefix(keepCount).map(\.row).sorted()
            recomputed = chosen.count
            return chosen + Array(chunkCount..<rows)
        }
        let x = model.embedForComposition(tokens)
        let remaining = model.runForComposition(x, positions: positions, cells: cells, cache: cache, selection: selection,
                                                capture: capture.map { handler in { _, weights in handler(weights, weights.count / max(config.heads * cache.used, 1)) } })
        let logits = model.headForComposition(x, count: remaining)
        return (logits, recomputed)
    }
}
