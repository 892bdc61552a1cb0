import Foundation
import Testing
import Cache
@testable import Engine
import Models
import TestSupport

/// CacheBlend's ranking by dense products against the formulas written out term by term.
@Suite struct BlendRankingTests {
    /// Fresh projections at layer 1 of rows whose cached K/V went stale (the tokens before them were
    /// replaced), ranked by `BlendRanking`, against a direct evaluation over the cache's own attention weights.
    @Test func denseProductsGiveTheDirectScores() throws {
        let model = try loadServingModel().model
        let cache = model.makeCache(capacity: 64)
        let vocabulary = model.config.vocabularySize
        let tokens = (0..<32).map { ($0 * 7919 + 13) % (vocabulary - 1) + 1 }
        _ = try model.forward(tokens: tokens, positions: Array(0..<32), cache: cache, outputs: .none)
        // New tokens at 0..<8: the cached K/V of 8..<32 above layer 0 no longer match what they would be.
        _ = try model.forward(tokens: tokens.prefix(8).map { ($0 * 31) % (vocabulary - 1) + 1 }, positions: Array(0..<8), cache: cache,
                              outputs: .none)
        let chunkRows = 18, visible = Array(0..<26)  // chunk rows at 8..<26, query rows at 26..<32
        var checked = 0
        let probe = LayerProbe(selectionLayer: 1, select: { fresh in
            let ranking = try BlendRanking(fresh: fresh, chunkRows: chunkRows, cache: cache, sequence: 0, visible: visible)
            let queries = Array(fresh.queries[(chunkRows * fresh.heads * fresh.keyDimension)...])
            let weights = try cache.attentionWeights(layer: 1, sequence: 0, queries: queries, heads: fresh.heads, positions: visible)
            #expect(maxAbsoluteDifference(ranking.weights, weights) <= 1e-5)
            let expected = try Self.directOutputChange(fresh, chunkRows: chunkRows, cache: cache, visible: visible, weights: weights)
            let scores = ranking.scores(.output)
            #expect(expected.contains { $0 > 1e-3 })
            for (score, reference) in zip(scores, expected) {
                #expect(abs(score - reference) <= 1e-4 * max(1, abs(reference)), "\(score) vs \(reference)")
            }
            checked += 1
            return Array(0..<fresh.rows)
        })
        _ = try model.forward(tokens: Array(tokens[8...]), positions: Array(8..<32), cache: cache, outputs: .last, probe: probe)
        #expect(checked == 1)
    }

    /// Per query row and head, `p_j · ‖Δv_j + Δs_j (v_j − ō)‖` summed, evaluated as written.
    static func directOutputChange(_ fresh: FreshProjections, chunkRows: Int, cache: KVCache, visible: [Int],
                                   weights: [Float]) throws -> [Float] {
        let heads = fresh.heads, kv = fresh.kvHeads, dk = fresh.keyDimension, dv = fresh.valueDimension, n = visible.count
        let group = heads / kv, queryRows = fresh.rows - chunkRows
        let positions = Array(fresh.positions.prefix(chunkRows))
        let keys = try cache.keys(layer: fresh.layer, sequence: 0, positions: positions)
        let values = try cache.values(layer: fresh.layer, sequence: 0, positions: positions)
        let visibleValues = try cache.values(layer: fresh.layer, sequence: 0, positions: visible)
        let scale = 1 / Double(fresh.headDimension).squareRoot()
        var scores = [Double](repeating: 0, count: chunkRows)
        for q in 0..<queryRows {
            for h in 0..<heads {
                let g = h / group, p = (q * heads + h) * n
                let mean = (0..<dv).map { i in (0..<n).reduce(0.0) { $0 + Double(weights[p + $1] * visibleValues[($1 * kv + g) * dv + i]) } }
                let query = (chunkRows + q) * heads * dk + h * dk
                for row in 0..<chunkRows {
                    let k = (row * kv + g) * dk, v = (row * kv + g) * dv
                    let ds = scale * (0..<dk).reduce(0.0) { $0 + Double(fresh.queries[query + $1]) * Double(fresh.keys[k + $1] - keys[k + $1]) }
                    let norm = (0..<dv).reduce(0.0) { total, i in
                        let e = Double(fresh.values[v + i] - values[v + i]) + ds * (Double(values[v + i]) - mean[i])
                        return total + e * e
                    }.squareRoot()
                    let column = try #require(visible.firstIndex(of: positions[row]))
                    scores[row] += Double(weights[p + column]) * norm
                }
            }
        }
        return scores.map { Float($0) }
    }
}
