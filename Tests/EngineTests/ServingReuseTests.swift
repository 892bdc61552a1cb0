import Foundation
import Testing
import Engine

/// Multi-turn KV reuse between jobs of one tenant, and context overflow by re-anchoring.
@Suite struct ServingReuseTests {
    let languageModel: LanguageModel

    init() throws { languageModel = try loadServingModel() }

    func encode(_ text: String, special: Bool = false) -> [Int] { languageModel.tokenizer.encode(text, addSpecialTokens: special) }

    func cold(_ prompt: [Int], count: Int) throws -> [Int] {
        try Generator(languageModel: languageModel).generate(promptTokens: prompt, request: try greedy(count)).tokens
    }

    /// `count` tokens of running text (cut from a long passage).
    func tokens(_ count: Int, from text: String) throws -> [Int] {
        let all = encode(String(repeating: text + " ", count: 8))
        try #require(all.count >= count)
        return Array(all[..<count])
    }

    @Test func continuedConversationReusesItsPrefixOnlyForItsTenant() async throws {
        let scheduler = try Scheduler(languageModel: languageModel, configuration: SchedulerConfiguration())
        let first = encode("Call me Ishmael. Some years ago, never mind how long", special: true)
        let turn1 = try await collect(try scheduler.submit(try CompletionJob(prompt: first, request: try greedy(12), tenant: "alice")))
        let second = first + turn1.tokens + encode(" And then the sailors said")
        let turn2 = try await collect(try scheduler.submit(try CompletionJob(prompt: second, request: try greedy(12), tenant: "alice")))
        // Every token the first job fed: its prompt and all generated tokens but the last.
        #expect(turn2.usage?.cachedTokens == first.count + 11)
        #expect(turn2.usage?.reusedTokens == turn2.usage?.cachedTokens)
        #expect(turn2.tokens == (try cold(second, count: 12)))

        let other = try await collect(try scheduler.submit(try CompletionJob(prompt: second, request: try greedy(12), tenant: "bob")))
        #expect(other.usage?.cachedTokens == 0)
        #expect(other.tokens == turn2.tokens)

        // The same prompt again: all but its last token come from the cache.
        let again = try await collect(try scheduler.submit(try CompletionJob(prompt: second, request: try greedy(12), tenant: "bob")))
        #expect(again.usage?.cachedTokens == second.count - 1)
        #expect(again.tokens == turn2.tokens)
        #expect(scheduler.snapshot.cachedTokens == first.count + 11 + second.count - 1)
        await scheduler.shutdown(grace: .seconds(5))
    }

    /// A prompt past the context drops its oldest turn (kept: the system prompt and the last turn), and
    /// generates what a cold run of the kept prompt generates; `.error` refuses it.
    @Test func overflowingPromptDropsTheOldestTurn() async throws {
        let scheduler = try Scheduler(languageModel: languageModel, configuration: try SchedulerConfiguration(context: 64))
        let system = encode("The story begins.", special: true)
        let turn1 = try tokens(40, from: "The ship sailed out of the harbour at dawn with the whole crew on deck.")
        let turn2 = try tokens(20, from: "Then the captain spoke to the men about the whale.")
        let prompt = system + turn1 + turn2
        #expect(prompt.count >= 64)
        let job = try CompletionJob(prompt: prompt, request: try greedy(8), turnStarts: [system.count, system.count + turn1.count])
        let result = try await collect(try scheduler.submit(job))
        #expect(result.usage?.droppedTokens == turn1.count)
        #expect(result.usage?.promptTokens == prompt.count)
        #expect(result.tokens == (try cold(system + turn2, count: 8)))

        var strict = job
        strict.overflow = .error
        #expect(throws: SchedulerError.promptTooLong(tokens: prompt.count, context: 64)) { try scheduler.submit(strict) }
        var single = job
        single.turnStarts = [system.count]
        #expect(throws: SchedulerError.promptTooLong(tokens: prompt.count, context: 64)) { try scheduler.submit(single) }
        await scheduler.shutdown(grace: .seconds(5))
    }

    /// Without turns, a prompt past the context keeps 4 sink tokens and drops the oldest half of the rest.
    @Test func overflowingPromptWithoutTurnsKeepsTheSinks() async throws {
        let scheduler = try Scheduler(languageModel: languageModel, configuration: try SchedulerConfiguration(context: 64))
        let prompt = encode("Chapter one.", special: true) + (try tokens(76, from: "The ship sailed out of the harbour at dawn."))
        let rest = prompt.count - 4
        let dropped = (rest + 1) / 2
        let result = try await collect(try scheduler.submit(try CompletionJob(prompt: prompt, request: try greedy(8))))
        #expect(result.usage?.droppedTokens == dropped)
        #expect(result.tokens == (try cold(Array(prompt[..<4] + prompt[(4 + dropped)...]), count: 8)))
        await scheduler.shutdown(grace: .seconds(5))
    }

    /// A continued conversation that overflows reuses its KV on both sides of the dropped turn: the later
    /// turns' cells are re-anchored down (they keep what they computed while the dropped turn was there, so
    /// the reference is the same cache operations done by hand, not a cold prefill of the kept prompt).
    @Test func overflowingConversationReanchorsItsCachedTurns() async throws {
        let scheduler = try Scheduler(languageModel: languageModel, configuration: try SchedulerConfiguration(context: 96))
        let system = encode("The story begins.", special: true)
        let turn1 = try tokens(40, from: "The ship sailed out of the harbour at dawn with the whole crew on deck.")
        let turn2 = try tokens(20, from: "Then the captain spoke to the men about the whale.")
        let first = system + turn1 + turn2
        let answer = try await collect(try scheduler.submit(try CompletionJob(
            prompt: first, request: try greedy(10), turnStarts: [system.count, system.count + turn1.count], tenant: "t")))
        let turn3 = try tokens(24, from: "Nobody answered him, and the wind rose over the grey water.")
        let second = first + answer.tokens + turn3
        let starts = [system.count, system.count + turn1.count, first.count + answer.tokens.count]
        let result = try await collect(try scheduler.submit(try CompletionJob(prompt: second, request: try greedy(8), turnStarts: starts,
                                                                              tenant: "t")))
        #expect(result.usage?.droppedTokens == turn1.count)
        // Reused: the system prompt, turn 2 and the answer but its last token, re-anchored 40 positions down.
        #expect(result.usage?.cachedTokens == system.count + turn2.count + answer.tokens.count - 1)
        var kept = second
        kept.removeSubrange(system.count..<(system.count + turn1.count))
        let model = languageModel.model
        let cache = model.makeCache(capacity: 128)
        let parked = first + answer.tokens.dropLast()
        _ = try model.forward(tokens: parked, positions: Array(0..<parked.count), cache: cache, outputs: .none)
        cache.remove(sequence: 0, range: system.count..<(system.count + turn1.count))
        try cache.shift(sequence: 0, range: (system.count + turn1.count)..<parked.count, by: -turn1.count)
        let reused = parked.count - turn1.count
        let logits = try model.forward(tokens: Array(kept[reused...]), positions: Array(reused..<kept.count), cache: cache)
        let expected = try DecodeLoop(model: model, cache: cache).greedy(from: logits, at: kept.count, count: 8).tokens
        #expect(result.tokens == expected)
        await scheduler.shutdown(grace: .seconds(5))
    }

    /// Generation past the context goes on after re-anchoring (`.reanchor`) or ends with `length` (`.error`).
    @Test func generationReachingTheContext() async throws {
        let scheduler = try Scheduler(languageModel: languageModel, configuration: try SchedulerConfiguration(context: 32))
        let prompt = encode("The whale swam", special: true)
        let long = try await collect(try scheduler.submit(try CompletionJob(prompt: prompt, request: try greedy(60))))
        #expect(long.tokens.count == 60)
        #expect(long.reason == .length)
        #expect((long.usage?.droppedTokens ?? 0) > 0)
        let strict = try await collect(try scheduler.submit(try CompletionJob(prompt: prompt, request: try greedy(60), overflow: .error)))
        #expect(strict.tokens.count == 32 - prompt.count + 1)
        #expect(strict.reason == .length)
        #expect(strict.usage?.droppedTokens == 0)
        await scheduler.shutdown(grace: .seconds(5))
    }
}
