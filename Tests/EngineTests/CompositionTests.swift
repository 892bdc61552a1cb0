import Foundation
import Testing
import Cache
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
        PromptComposer(model: languageModel.model, library: try languageModel.library())
    }

    func difference(_ a: Composition, _ b: Composition) -> ValueDifference {
        maxAbsoluteDifference(a.logits.last, b.logits.last)
    }

    @Test func anchoredEqualsFullWithASingleChunk() async throws {
        let single = RAGPrompt(prefix: prompt.prefix, chunks: [prompt.chunks[1]], query: prompt.query)
        let composer = try composer()
        let full = try await composer.compose(single, mode: .full)
        let anchored = try await composer.compose(single, mode: .anchored)
        // Cold: the chunk was computed in this request (a library miss), so nothing counts as reused.
        #expect(anchored.reusedTokens == 0 && anchored.libraryMisses == 2)
        #expect(difference(full, anchored) <= 1e-4)
        // Served from the library the second time, still exact.
        let again = try await composer.compose(single, mode: .anchored)
        #expect(again.chunkTokensFromLibrary == single.chunkTokenCount)
        #expect(again.reusedTokens == single.prefix.count + single.chunkTokenCount)
        #expect(difference(full, again) <= 1e-4)
    }

    @Test(arguments: BlendParameters.Deviation.allCases)
    func blendRatioOneEqualsFullAndRatioZeroEqualsAnchored(deviation: BlendParameters.Deviation) async throws {
        let composer = try composer()
        let full = try await composer.compose(prompt, mode: .full)
        let anchored = try await composer.compose(prompt, mode: .anchored)
        for checkLayer in [0, 1, 3] {
            let all = try await composer.compose(prompt, mode: .blend, blend: try BlendParameters(ratio: 1, checkLayer: checkLayer, deviation: deviation))
            #expect(all.recomputedTokens == prompt.chunkTokenCount)
            #expect(difference(all, full) <= 1e-4)
        }
        // Layers below the check layer are recomputed for every token; layer 0's K/V depend on the token alone,
        // so with the check layer at 0 or 1 nothing reused changes.
        for checkLayer in [0, 1] {
            let none = try await composer.compose(prompt, mode: .blend, blend: try BlendParameters(ratio: 0, checkLayer: checkLayer, deviation: deviation))
            #expect(none.recomputedTokens == 0)
            #expect(difference(none, anchored) <= 1e-4)
        }
    }

    /// A chunk entry with one token's layer-1 K/V spoiled: every ranking must pick that token first, and
    /// recomputing it must repair the answer.
    @Test(arguments: BlendParameters.Deviation.allCases)
    func blendRecomputesTheTokenThatDeviatesMost(deviation: BlendParameters.Deviation) async throws {
        let model = languageModel.model
        let library = try languageModel.library()
        let composer = PromptComposer(model: model, library: library)
        let chunk = prompt.chunks[2]
        let spoiled = 3
        let clean = try ChunkReuse(model: model).encode(chunk: chunk, after: prompt.prefix)
        let width = clean.geometry.keyWidth
        var keys = clean.keys, values = clean.values
        for i in (spoiled * width)..<((spoiled + 1) * width) {
            if deviation == .keys { keys[1][i] += 4 } else { values[1][i] += 40 }
        }
        let slice = CacheSlice(geometry: clean.geometry, relativePositions: clean.relativePositions, keys: keys, values: values)
        try await library.store(tokens: chunk, context: prompt.prefix, slice: slice, namespace: .shared)
        let one = 1 / Double(prompt.chunkTokenCount)
        let blend = try await composer.compose(prompt, mode: .blend, blend: try BlendParameters(ratio: one, deviation: deviation))
        let position = prompt.prefix.count + prompt.chunks[0].count + prompt.chunks[1].count + spoiled
        #expect(blend.recomputedPositions == [position])
        #expect(blend.chunkTokensFromLibrary == chunk.count)
        let full = try await composer.compose(prompt, mode: .full)
        let anchored = try await composer.compose(prompt, mode: .anchored)
        #expect(difference(blend, full) < difference(anchored, full))
    }

    @Test func blendComesCloserToFullThanAnchored() async throws {
        let composer = try composer()
        let full = try await composer.compose(prompt, mode: .full)
        let anchored = try await composer.compose(prompt, mode: .anchored)
        // With several chunks, reuse loses cross-chunk attention: anchored is not full, and naive is worse.
        let naive = try await composer.compose(prompt, mode: .naive)
        #expect(difference(anchored, full) > 1e-4)
        #expect(difference(naive, full) > difference(anchored, full))
        let partial = try await composer.compose(prompt, mode: .blend)
        #expect(partial.recomputedTokens == Int((Double(prompt.chunkTokenCount) * 0.15).rounded()))
        // The chunks here are a few dozen tokens: 15% is too few to judge; half of them must repair most of the gap.
        let gap = LogProbabilities.klDivergence(full.logits.last, anchored.logits.last)
        for deviation in BlendParameters.Deviation.allCases {
            let half = try await composer.compose(prompt, mode: .blend, blend: try BlendParameters(ratio: 0.5, deviation: deviation))
            #expect(LogProbabilities.klDivergence(full.logits.last, half.logits.last) < gap / 2, "\(deviation)")
        }
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
        let library = try languageModel.library(path: directory.path)
        _ = try await PromptComposer(model: languageModel.model, library: library).compose(prompt, mode: .anchored)
        let otherLibraryView = try other.library(path: directory.path)
        #expect(await otherLibraryView.disk?.statistics.entries == prompt.chunks.count + 1)  // the chunks and the prefix
        let mine = await library.lookup(tokens: prompt.chunks[0], context: prompt.prefix, namespace: .shared)
        #expect(mine != nil)
        let key = ChunkKey(fingerprint: other.fingerprint, namespace: .shared, context: prompt.prefix, tokens: prompt.chunks[0])
        #expect(key != mine?.key)
        #expect(await otherLibraryView.lookup(tokens: prompt.chunks[0], context: prompt.prefix, namespace: .shared) == nil)
        #expect(await otherLibraryView.lookup(tokens: prompt.prefix, context: [], namespace: .shared) == nil)
    }
}
