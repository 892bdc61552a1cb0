import Foundation
import Testing
import Cache
import Documents
import Engine
import Models
import TestSupport

/// Selective recompute reads the cache through its views, so it composes the same prompt whatever the
/// key-storage mode.
@Suite struct BlendStorageTests {
    let languageModel: LanguageModel
    let prompt: RAGPrompt

    init() throws {
        languageModel = try LanguageModel(directory: repositoryRoot.appendingPathComponent("models/books-5m"))
        let tokenizer = languageModel.tokenizer
        let template = RAGTemplate()
        prompt = template.prompt(passages: ["The whale was white and old.", "Ahab was the captain of the ship.",
                                            "The sea was grey in the morning."],
                                 question: "who was the captain?", tokenizer: tokenizer, bos: languageModel.config.bosTokenID)
    }

    func compose(_ mode: ReuseMode, storage: KeyStorage, ratio: Double = 0.15) async throws -> Composition {
        let composer = PromptComposer(model: languageModel.model, library: try languageModel.library(),
                                      storage: storage)
        return try await composer.compose(prompt, mode: mode, blend: try BlendParameters(ratio: ratio, checkLayer: 1, deviation: .output))
    }

    func difference(_ a: Composition, _ b: Composition) -> ValueDifference {
        maxAbsoluteDifference(a.logits.last, b.logits.last)
    }

    @Test(arguments: KeyStorage.allCases)
    func blendWorksInEveryStorageMode(storage: KeyStorage) async throws {
        let reference = try await compose(.blend, storage: .anchored, ratio: 0.3)
        let full = try await compose(.full, storage: storage)
        let anchored = try await compose(.anchored, storage: storage)
        let all = try await compose(.blend, storage: storage, ratio: 1)
        #expect(all.recomputedTokens == prompt.chunkTokenCount)
        #expect(difference(all, full) <= 1e-4)
        let none = try await compose(.blend, storage: storage, ratio: 0)
        #expect(none.recomputedTokens == 0)
        #expect(difference(none, anchored) <= 1e-4)
        // The ranking sees the same K/V in every mode, so it recomputes the same tokens.
        let some = try await compose(.blend, storage: storage, ratio: 0.3)
        #expect(some.recomputedTokens > 0 && some.recomputedTokens < prompt.chunkTokenCount)
        #expect(some.recomputedPositions == reference.recomputedPositions)
        #expect(difference(some, reference) <= 1e-4)
    }
}
