import Testing
import Cache
import Engine
import Models

/// A model whose config declares a huge window (Llama 3.2's 131072 positions, or a million) costs cache
/// memory for the tokens it holds, not for the window.
@Suite struct HugeWindowTests {
    @Test(arguments: [131_072, 1_000_000])
    func decodingAFewTokensAllocatesForThoseTokens(window: Int) throws {
        let config = try ModelConfig(hiddenSize: 64, intermediateSize: 128, layers: 2, heads: 4, kvHeads: 2, vocabularySize: 256,
                                     tieWordEmbeddings: true, maxPositionEmbeddings: window, ropeTheta: 500_000,
                                     bosTokenID: 0, eosTokenIDs: [1])
        let model = try LlamaModel(config: config, weights: .random(config: config))
        // What Generator does: a cache for the whole window.
        let cache = model.makeCache(capacity: config.maxPositionEmbeddings)
        let logits = try model.forward(tokens: [0, 5, 9, 12], positions: [0, 1, 2, 3], cache: cache)
        let (tokens, outcome) = try DecodeLoop(model: model, cache: cache).greedy(from: logits, at: 4, count: 4)
        #expect(tokens.count == 4 && outcome.position == 8 && cache.count(sequence: 0) == 8)
        let perToken = cache.geometry.bytesPerToken * 3 / 2  // K, V and canonical K
        #expect(cache.byteCount == 256 * perToken, "one block of 256 cells")
        #expect(cache.byteCount * 500 < window * perToken)
    }
}
