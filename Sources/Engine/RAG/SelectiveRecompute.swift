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
        // The query sees the prefix and the chunks at the check layer; its own cells are not written yet.
        let querySet = Set(queryPositions)
        let visible = cache.positions(of: 0).filter { !querySet.contains($0) }
        var recomputed: [Int] = []
        let selection = RowSelection.blend(parameters, layers: model.config.layers, cache: cache, sequence: 0,
                                           chunkPositions: chunkPositions, visible: visible) { recomputed = $0 }
        let probe = LayerProbe(selectionLayer: selection.layer, select: selection.select, attention: attention)
        let logits = try model.forward(tokens: chunkTokens + prompt.query, positions: chunkPositions + queryPositions, sequence: 0,
                                       cache: cache, outputs: .last, probe: probe)
        return (logits, recomputed)
    }
}

extension RowSelection {
    /// CacheBlend's selection for a forward entry whose rows are the chunk tokens (at `chunkPositions`, whose
    /// reused K/V `sequence` holds) followed by query rows: at the check layer (`parameters.checkLayer`, at
    /// most the last layer) the chunk rows are ranked by `parameters.deviation` and the top `ratio` of them
    /// go on with every query row; the rest keep their reused K/V from that layer up.
    /// - visible: the positions the query attends to at the check layer (the sequence's cells before the call), ascending.
    /// - chosen: receives the positions of the chunk rows kept.
    static func blend(_ parameters: BlendParameters, layers: Int, cache: KVCache, sequence: Int, chunkPositions: [Int], visible: [Int],
                      chosen: @escaping ([Int]) -> Void) -> RowSelection {
        let chunkCount = chunkPositions.count
        let keepCount = parameters.recomputedCount(of: chunkCount)
        return RowSelection(layer: min(parameters.checkLayer, layers - 1)) { fresh in
            // The ranking reads the cache's views; should a read fail, every chunk row is recomputed (full
            // recompute: always a valid choice), rather than failing the batch this entry runs in.
            guard let ranking = try? BlendRanking(fresh: fresh, chunkRows: chunkCount, cache: cache, sequence: sequence, visible: visible) else {
                chosen(chunkPositions)
                return Array(0..<fresh.rows)
            }
            let scores = ranking.scores(parameters.deviation)
            let kept = scores.indices.sorted { scores[$0] > scores[$1] }.prefix(keepCount).sorted()
            chosen(kept.map { chunkPositions[$0] })
            return kept + Array(chunkCount..<fresh.rows)
        }
    }
}
