import Foundation
import Testing
import Documents
import Engine
import Models
import TestSupport

/// The reuse modes against full recompute on the embedded model.
@Suite struct CompositionTests {
    let languageModel: LanguageModel
    let prompt: RAGPrompt

    init() throws {
        languageModel = try LanguageModel(directory: repositoryRoot.appendingPathComponent("models/books-5m"))
        let tokenizer = languageModel.tokenizer
        let bos = languageModel.config.bosTokenID.map { [$0] } ?? []
        prompt = RAGPrompt(prefix: bos + tokenizer.encode("Read the passages.\n", addSpecialTokens: false),
                           chunks: ["The whale was white and old.\n", "Ahab was the captain of the ship.\n",
                                    "The sea was grey in the morning.\n"].map { tokenizer.encode($0, addSpecialTokens: false) },
                           query: tokenizer.encode("Question: who was the captain?\nAnswer:", addSpecialTokens: false))
    }

    func composer() throws -> PromptComposer {
        PromptComposer(model: languageModel.model, library: try DocumentLibrary(fingerprint: languageModel.fingerprint))
    }

    func difference(_ a: Composition, _ b: Composition) -> Float {
        zip(a.logits.last, b.logits.last).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    @Test func anchoredEqualsFullWithASingleChunk() async throws {
        let single = RAGPrompt(prefix: prompt.prefix, chunks: [prompt.chunks[1]], query: prompt.query)
        let composer = try composer()
        let full = try await composer.compose(single, mode: .full)
        let anchored = try await composer.compose(single, mode: .anchored)
        #expect(anchored.reusedTokens == single.chunkTokenCount)
        #expect(difference(full, anchored) <= 1e-4)
        // Served from the library the second time, still exact.
        let again = try await composer.compose(single, mode: .anchored)
        #expect(again.chunkTokensFromLibrary == single.chunkTokenCount)
        #expect(difference(full, again) <= 1e-4)
    }

    @Test func blendRatioOneEqualsFullAndRatioZeroEqualsAnchored() async throws {
        let composer = try composer()
        let full = try await composer.compose(prompt, mode: .full)
        let anchored = try await composer.compose(prompt, mode: .anchored)
        let all = try await composer.compose(prompt, mode: .blend, blend: try BlendParameters(ratio: 1))
        let none = try await composer.compose(prompt, mode: .blend, blend: try BlendParameters(ratio: 0))
        #expect(all.recomputedTokens == prompt.chunkTokenCount)
        #expect(none.recomputedTokens == 0)
        #expect(difference(all, full) <= 1e-4)
        #expect(difference(none, anchored) <= 1e-4)
        // With several chunks, reuse loses cross-chunk attention: anchored is not full, and naive is worse.
        let naive = try await composer.compose(prompt, mode: .naive)
        #expect(difference(anchored, full) > 1e-4)
        #expect(difference(naive, full) > difference(anchored, full))
        let partial = try await composer.compose(prompt, mode: .blend)
        #expect(partial.recomputedTokens == Int((Double(prompt.chunkTokenCount) * 0.15).rounded()))
    }

    @Test func chunksLongerThanTheContextAreAClearError() async throws {
        let long = RAGPrompt(prefix: prompt.prefix, chunks: [Array(repeating: 300, count: 1100)], query: prompt.query)
        let composer = try composer()
        for mode in ReuseMode.allCases {
            do {
                _ = try await composer.compose(long, mode: mode)
                Issue.record("\(mode): a prompt longer than the context must be refused")
            } catch let error as EngineError {
                #expect(error.description.contains("exceed the model's 1024-token context"))
            }
        }
    }

    @Test func prefixModeReusesOnlyAnIdenticalPrefix() async throws {
        let composer = try composer()
        let first = try await composer.compose(prompt, mode: .prefix)
        #expect(first.reusedTokens == 0)
        var shuffled = prompt
        shuffled.chunks = [prompt.chunks[0], prompt.chunks[2], prompt.chunks[1]]
        let second = try await composer.compose(shuffled, mode: .prefix)
        #expect(second.reusedTokens == prompt.prefix.count + prompt.chunks[0].count)
        let full = try await composer.compose(shuffled, mode: .full)
        #expect(difference(second, full) <= 1e-4)
    }

    /// Another RoPE configuration (or other weights, or another tokenizer) is another fingerprint, so its
    /// lookups can never hit entries made by this model.
    @Test func anotherRopeConfigurationNeverHitsTheLibrary() async throws {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("reanchor-theta-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: repositoryRoot.appendingPathComponent("models/books-5m"), to: copy)
        let configURL = copy.appendingPathComponent("config.json")
        let config = try String(contentsOf: configURL, encoding: .utf8).replacingOccurrences(of: "\"rope_theta\": 10000.0", with: "\"rope_theta\": 20000.0")
        try config.write(to: configURL, atomically: true, encoding: .utf8)
        let other = try LanguageModel(directory: copy)
        #expect(other.fingerprint.model != languageModel.fingerprint.model)
        #expect(other.fingerprint.tokenizer == languageModel.fingerprint.tokenizer)

        // Both models share one disk directory: the other model must still miss.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("reanchor-lib-\(UUID().uuidString)")
        let library = try DocumentLibrary(fingerprint: languageModel.fingerprint, directory: directory)
        _ = try await PromptComposer(model: languageModel.model, library: library).compose(prompt, mode: .anchored)
        let otherLibraryView = try DocumentLibrary(fingerprint: other.fingerprint, directory: directory)
        #expect(await otherLibraryView.disk?.statistics.entries == prompt.chunks.count)
        let mine = await library.lookup(tokens: prompt.chunks[0], context: prompt.prefix, namespace: .shared)
        #expect(mine != nil)
        let key = ChunkKey(fingerprint: other.fingerprint, namespace: .shared, context: prompt.prefix, tokens: prompt.chunks[0])
        #expect(key != mine?.key)
        #expect(await otherLibraryView.lookup(tokens: prompt.chunks[0], context: prompt.prefix, namespace: .shared) == nil)
    }
}
