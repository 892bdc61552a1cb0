import Foundation
import Testing
import Cache
import Documents
import Engine
import Models
import TestSupport

/// Composed prompts run in the scheduler: the parts are placed at their offsets and, with `blend`, the chunk
/// tokens go through selective recompute inside a batched step, giving what `PromptComposer` gives alone.
@Suite struct ServingBlendTests {
    let languageModel: LanguageModel
    let prompt: RAGPrompt

    init() throws {
        languageModel = try loadServingModel()
        let tokenizer = languageModel.tokenizer
        let bos = languageModel.config.bosTokenID.map { [$0] } ?? []
        prompt = RAGPrompt(prefix: bos + tokenizer.encode("Read the passages.\n", addSpecialTokens: false),
                           chunks: ["The whale was white and old, and it swam alone in the cold grey sea.\n",
                                    "Ahab was the captain of the ship, and he hunted the whale for many years.\n",
                                    "The sea was grey in the morning, and the men were tired.\n"]
                               .map { tokenizer.encode($0, addSpecialTokens: false) },
                           query: tokenizer.encode("Question: who was the captain?\nAnswer:", addSpecialTokens: false))
    }

    /// The prompt's parts as the library serves them (stored by an `anchored` composition first).
    func composed(_ composer: PromptComposer, blend: BlendParameters?) async throws -> ComposedPrefix {
        let entries = await composer.fetch(prompt)
        var parts = [ComposedPrefix.Part(slice: try #require(entries.prefix), offset: 0, fromLibrary: true, isChunk: false)]
        var offset = prompt.prefix.count
        for (chunk, entry) in zip(prompt.chunks, entries.chunks) {
            parts.append(ComposedPrefix.Part(slice: try #require(entry), offset: offset, fromLibrary: true, isChunk: true))
            offset += chunk.count
        }
        return try ComposedPrefix(tokens: prompt.prefix + prompt.chunks.flatMap { $0 }, parts: parts, blend: blend, seconds: 0)
    }

    func job(_ composed: ComposedPrefix?, count: Int, tenant: String) throws -> CompletionJob {
        var job = try CompletionJob(prompt: prompt.tokens, request: try greedy(count), topLogprobs: 0, tenant: tenant)
        if let composed { try job.compose(composed) }
        return job
    }

    @Test func blendInABatchedStepMatchesTheComposer() async throws {
        let composer = PromptComposer(model: languageModel.model, library: try languageModel.library())
        _ = try await composer.compose(prompt, mode: .anchored)
        let parameters = try BlendParameters(ratio: 0.3, checkLayer: 1, deviation: .output)
        let reference = try await composer.compose(prompt, mode: .blend, blend: parameters)
        let anchored = try await composer.compose(prompt, mode: .anchored)
        let full = try await composer.compose(prompt, mode: .full)
        let composedBlend = try await composed(composer, blend: parameters)
        let composedAnchored = try await composed(composer, blend: nil)
        let all = try await composed(composer, blend: try BlendParameters(ratio: 1, checkLayer: 1, deviation: .output))

        let scheduler = try Scheduler(languageModel: languageModel, configuration: SchedulerConfiguration())
        // Four jobs at once, so that the blend steps batch with other sequences' rows.
        let streams = try [(composedBlend, "a"), (composedAnchored, "b"), (all, "c"), (nil, "d")].map { composed, tenant in
            try scheduler.submit(try job(composed, count: 6, tenant: tenant))
        }
        async let blendRun = collect(streams[0])
        async let anchoredRun = collect(streams[1])
        async let allRun = collect(streams[2])
        async let plainRun = collect(streams[3])
        let (blended, placed, recomputedAll, plain) = try await (blendRun, anchoredRun, allRun, plainRun)
        await scheduler.shutdown(grace: .seconds(5))

        let chunkTokens = prompt.chunkTokenCount
        for (name, run, composition) in [("blend", blended, reference), ("anchored", placed, anchored), ("full", plain, full)] {
            let first = try #require(run.events.first)
            let logits = composition.logits.last
            let best = try #require(logits.indices.max { logits[$0] < logits[$1] }) - logits.startIndex
            #expect(first.token == best, "\(name)")
            let expected = LogProbabilities.logProbability(logits, of: first.token)
            #expect(abs(Double(try #require(first.logprob?.logprob)) - expected) <= 1e-3, "\(name): \(String(describing: first.logprob)) vs \(expected)")
        }
        #expect(blended.usage?.recomputedTokens == reference.recomputedTokens)
        #expect(reference.recomputedTokens == Int((Double(chunkTokens) * 0.3).rounded()))
        #expect(blended.usage?.cachedTokens == reference.reusedTokens)
        #expect(placed.usage?.cachedTokens == prompt.prefix.count + chunkTokens && placed.usage?.recomputedTokens == 0)
        // Every chunk token recomputed: the prompt computed in full, token for token.
        #expect(recomputedAll.usage?.recomputedTokens == chunkTokens && recomputedAll.usage?.cachedTokens == prompt.prefix.count)
        #expect(recomputedAll.tokens == plain.tokens)
        #expect(plain.usage?.cachedTokens == 0)
    }

    /// A blend admitted behind a long prefill that takes most of a small prefill chunk still ranks its chunk rows
    /// with its whole query (up to a chunk), as the composer does: the same first token, logprob and recomputed count.
    @Test func blendBehindALongPrefillSeesItsWholeQuery() async throws {
        let composer = PromptComposer(model: languageModel.model, library: try languageModel.library())
        _ = try await composer.compose(prompt, mode: .anchored)
        let parameters = try BlendParameters(ratio: 0.3, checkLayer: 1, deviation: .output)
        let reference = try await composer.compose(prompt, mode: .blend, blend: parameters)
        let composedBlend = try await composed(composer, blend: parameters)
        let chunk = prompt.query.count + 2
        try #require(chunk < 40)
        let scheduler = try Scheduler(languageModel: languageModel, configuration: try SchedulerConfiguration(prefillChunk: chunk))
        // The long prompt is admitted first: each step it takes `chunk - 1`, leaving 1 row of the chunk.
        let long = try CompletionJob(prompt: Array(repeating: prompt.query, count: 8).flatMap { $0 }.prefix(chunk - 1 + 3 * chunk).map { $0 },
                                     request: try greedy(2), tenant: "long")
        let streams = [try scheduler.submit(long), try scheduler.submit(try job(composedBlend, count: 2, tenant: "a"))]
        async let longRun = collect(streams[0])
        async let blendRun = collect(streams[1])
        let (_, blended) = try await (longRun, blendRun)
        await scheduler.shutdown(grace: .seconds(5))
        let first = try #require(blended.events.first)
        let logits = reference.logits.last
        let expected = LogProbabilities.logProbability(logits, of: first.token)
        #expect(abs(Double(try #require(first.logprob?.logprob)) - expected) <= 1e-3)
        #expect(blended.usage?.recomputedTokens == reference.recomputedTokens)
    }
}
