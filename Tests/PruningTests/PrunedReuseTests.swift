import Foundation
import Testing
import TestSupport
import Engine
import Models
@testable import Pruning

/// Document reuse on a pruned model: anchored reuse of a library chunk and selective recompute (blend) work
/// unchanged, and the pruned model's fingerprint is not the original's.
@Suite(.serialized) struct PrunedReuseTests {
    @Test func reuseAndBlendOnAPrunedModel() async throws {
        let source = PruneCheckpointTests.directory
        let original = try LlamaModel(directory: source, format: .f32)
        let plan = try PruningPlan(model: original, calibration: try CalibrationProjections(model: original, tokens: PruneCheckpointTests.calibration),
                                   keep: 0.7, score: .energy)
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("reanchor-prune-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        try PrunedCheckpoint.write(source: source, config: original.config, pruning: plan.pruning, to: output)
        let pruned = try LanguageModel(directory: output)
        #expect(pruned.fingerprint != (try LanguageModel(directory: source)).fingerprint)

        let tokenizer = pruned.tokenizer
        let bos = pruned.config.bosTokenID.map { [$0] } ?? []
        let prompt = RAGPrompt(prefix: bos + tokenizer.encode("Read the passages.\n", addSpecialTokens: false),
                               chunks: ["Ahab was the captain of the ship.\n", "The sea was grey.\n"].map { tokenizer.encode($0, addSpecialTokens: false) },
                               query: tokenizer.encode("Question: who was the captain?\nAnswer:", addSpecialTokens: false))
        let single = RAGPrompt(prefix: prompt.prefix, chunks: [prompt.chunks[0]], query: prompt.query)
        let composer = PromptComposer(model: pruned.model, library: try pruned.library())
        let full = try await composer.compose(single, mode: .full)
        _ = try await composer.compose(single, mode: .anchored)
        let again = try await composer.compose(single, mode: .anchored)
        #expect(again.chunkTokensFromLibrary == single.chunkTokenCount)
        #expect(maxAbsoluteDifference(full.logits.last, again.logits.last) <= 1e-4)

        let fullTwo = try await composer.compose(prompt, mode: .full)
        let blend = try await composer.compose(prompt, mode: .blend, blend: try BlendParameters(ratio: 1, checkLayer: 1, deviation: .output))
        #expect(blend.recomputedTokens == prompt.chunkTokenCount)
        #expect(maxAbsoluteDifference(fullTwo.logits.last, blend.logits.last) <= 1e-4)
    }
}
