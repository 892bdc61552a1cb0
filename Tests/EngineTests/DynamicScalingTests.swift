import Testing
import Cache
import Engine
import Kernels
import Models

/// Dynamic NTK scaling works only within its original context and cannot move keys: the engine says so
/// up front instead of failing after a context has been generated, and changes nothing when refusing.
@Suite struct DynamicScalingTests {
    @Test func windowIsTheOriginalContextAndTruncationRefusesBeforeRemoving() throws {
        let config = try ModelConfig(hiddenSize: 32, intermediateSize: 64, layers: 1, heads: 2, kvHeads: 1, vocabularySize: 64,
                                     maxPositionEmbeddings: 64, ropeScaling: .dynamic(factor: 2, originalContext: 16),
                                     bosTokenID: 0, eosTokenIDs: [1])
        #expect(config.usableWindow == 16)
        let model = try LlamaModel(config: config, weights: .random(config: config))
        let cache = model.makeCache(capacity: config.usableWindow)
        var tokens = Array(2..<14)
        _ = try model.forward(tokens: tokens, positions: Array(0..<tokens.count), cache: cache, outputs: .none)
        for policy in [OverflowPolicy.reanchor, .naive] {
            #expect(throws: CacheError.rotationDoesNotCompose(String(describing: config.ropeScaling))) {
                try Truncation(policy: policy, keep: 2, fraction: 0.5).apply(to: cache, tokens: &tokens, model: model)
            }
            #expect(cache.positions(of: 0) == Array(0..<12) && tokens == Array(2..<14))
        }
        // Re-prefilling the survivors needs no rotation, so it works.
        try Truncation(policy: .reprefill, keep: 2, fraction: 0.5).apply(to: cache, tokens: &tokens, model: model)
        #expect(cache.positions(of: 0) == Array(0..<tokens.count) && tokens.count == 7)
    }
}
