import Foundation
import Testing
import Engine

/// The scheduler generates what `Generator` generates, alone and under continuous batching.
@Suite struct ServingSchedulerTests {
    let languageModel: LanguageModel

    init() throws { languageModel = try loadServingModel() }

    static let prompts = [
        "The whale", "It was the best of times, it was the worst of times", "Call me Ishmael. Some years ago",
        "She opened the door and", "In the beginning", "The old man looked at the sea and thought about the long night",
        "A", "They walked along the river until the sun went down behind the hills, and then",
    ]

    func generatorTokens(_ prompt: [Int], count: Int) throws -> (tokens: [Int], text: String) {
        let result = try Generator(languageModel: languageModel).generate(promptTokens: prompt, request: try greedy(count))
        return (result.tokens, result.text)
    }

    @Test func aloneEqualsGenerator() async throws {
        let scheduler = try Scheduler(languageModel: languageModel, configuration: SchedulerConfiguration())
        let prompt = languageModel.tokenizer.encode(Self.prompts[1], addSpecialTokens: true)
        let expected = try generatorTokens(prompt, count: 24)
        let result = try await collect(try scheduler.submit(try CompletionJob(prompt: prompt, request: try greedy(24))))
        #expect(result.tokens == expected.tokens)
        #expect(result.text == expected.text)
        #expect(result.reason == .length)
        #expect(result.usage?.promptTokens == prompt.count)
        #expect(result.usage?.completionTokens == 24)
        #expect(result.usage?.cachedTokens == 0)
        await scheduler.shutdown(grace: .seconds(5))
    }

    /// Eight jobs of different prompt lengths and token counts at once, prefilled in 8-token chunks between
    /// the decodes of the others: each gets exactly its greedy output alone.
    @Test func eightConcurrentJobsEqualGenerator() async throws {
        let scheduler = try Scheduler(languageModel: languageModel,
                                      configuration: try SchedulerConfiguration(maxSequences: 8, prefillChunk: 8))
        let prompts = Self.prompts.map { languageModel.tokenizer.encode($0, addSpecialTokens: true) }
        let counts = prompts.indices.map { 12 + 5 * $0 }
        let expected = try zip(prompts, counts).map { try generatorTokens($0, count: $1).tokens }
        let streams = try zip(prompts, counts).map { try scheduler.submit(try CompletionJob(prompt: $0, request: try greedy($1))) }
        let results = try await withThrowingTaskGroup(of: (Int, CollectedCompletion).self) { group in
            for (index, stream) in streams.enumerated() { group.addTask { (index, try await collect(stream)) } }
            var results = [CollectedCompletion](repeating: CollectedCompletion(), count: streams.count)
            for try await (index, result) in group { results[index] = result }
            return results
        }
        for index in prompts.indices {
            #expect(results[index].tokens == expected[index], "job \(index)")
            #expect(results[index].usage?.completionTokens == counts[index])
        }
        let snapshot = scheduler.snapshot
        #expect(snapshot.generatedTokens == counts.reduce(0, +))
        #expect(snapshot.promptTokens == prompts.reduce(0) { $0 + $1.count })
        #expect(snapshot.running == 0)
        await scheduler.shutdown(grace: .seconds(5))
    }

    /// A long prompt is prefilled one chunk per step while a running stream gets a token in every step.
    @Test func longPromptDoesNotStallARunningStream() async throws {
        let scheduler = try Scheduler(languageModel: languageModel,
                                      configuration: try SchedulerConfiguration(maxSequences: 2, prefillChunk: 16))
        let short = languageModel.tokenizer.encode(Self.prompts[0], addSpecialTokens: true)
        var running = try scheduler.submit(try CompletionJob(prompt: short, request: try greedy(400))).makeAsyncIterator()
        guard case .token(let first) = try await running.next() else { Issue.record("no first token"); return }
        let long = (0..<600).map { ($0 * 7919 + 13) % 4000 + 2 }
        let late = try await collect(try scheduler.submit(try CompletionJob(prompt: long, request: try greedy(2))))
        let lateFirst = try #require(late.events.first).step
        // 600 tokens in chunks of 16 take at least 38 steps (the whole prompt in one step would take 1).
        #expect(lateFirst - first.step >= 38)
        var steps = [first.step]
        while let event = try await running.next() {
            if case .token(let token) = event { steps.append(token.step) }
        }
        #expect(steps.count == 400)
        #expect(zip(steps, steps.dropFirst()).allSatisfy { $1 == $0 + 1 }, "the running stream skipped a step")
        await scheduler.shutdown(grace: .seconds(5))
    }

    /// Stop strings are cut as `Generator` cuts them; EOS, max tokens and logprobs are reported.
    @Test func stopStringsAndLogprobs() async throws {
        let scheduler = try Scheduler(languageModel: languageModel, configuration: SchedulerConfiguration())
        let prompt = languageModel.tokenizer.encode(Self.prompts[0], addSpecialTokens: true)
        let free = try generatorTokens(prompt, count: 24)
        let words = free.text.split(separator: " ").filter { $0.count >= 3 }
        let stop = String(try #require(words.dropFirst().first))
        let request = try GenerationRequest(maxTokens: 24, stopStrings: [stop], stopOnEOS: false)
        let expected = try Generator(languageModel: languageModel).generate(promptTokens: prompt, request: request)
        let result = try await collect(try scheduler.submit(try CompletionJob(prompt: prompt, request: request, topLogprobs: 3)))
        #expect(result.reason == .stop)
        #expect(result.text == expected.text)
        #expect(!result.text.contains(stop))
        for event in result.events {
            let chosen = try #require(event.logprob)
            #expect(chosen.token == event.token && chosen.logprob <= 0)
            #expect(event.top.count == 3)
            #expect(event.top[0].logprob >= event.top[1].logprob && event.top[1].logprob >= event.top[2].logprob)
            // Greedy: the chosen token is the most likely one.
            #expect(event.top[0].token == event.token && abs(event.top[0].logprob - chosen.logprob) < 1e-6)
        }
        await scheduler.shutdown(grace: .seconds(5))
    }

    /// With frequency and presence penalties, each greedy token is the argmax of the model's logits minus
    /// the penalties of the tokens generated before it (checked against a teacher-forced run).
    @Test func penaltiesFollowOpenAISemantics() async throws {
        let scheduler = try Scheduler(languageModel: languageModel, configuration: SchedulerConfiguration())
        let prompt = languageModel.tokenizer.encode(Self.prompts[4], addSpecialTokens: true)
        let (frequency, presence): (Float, Float) = (0.7, 1.5)
        let result = try await collect(try scheduler.submit(try CompletionJob(prompt: prompt, request: try greedy(30),
                                                                              frequencyPenalty: frequency, presencePenalty: presence)))
        let plain = try generatorTokens(prompt, count: 30).tokens
        #expect(result.tokens != plain)
        let model = languageModel.model
        let cache = model.makeCache(capacity: 128)
        let logits = try model.forward(tokens: prompt, positions: Array(0..<prompt.count), cache: cache)
        let rows = try DecodeLoop(model: model, cache: cache).force(result.tokens, from: logits, at: prompt.count)
        for (index, row) in rows.enumerated() {
            var adjusted = Array(row)
            var counts: [Int: Int] = [:]
            for token in result.tokens[..<index] { counts[token, default: 0] += 1 }
            for (token, count) in counts { adjusted[token] -= frequency * Float(count) + presence }
            #expect(Sampler.argmax(adjusted) == result.tokens[index], "step \(index)")
        }
        #expect(throws: EngineError.self) { try CompletionJob(prompt: prompt, request: try greedy(4), frequencyPenalty: 2.5) }
        #expect(throws: EngineError.self) { try CompletionJob(prompt: prompt, request: try greedy(4), presencePenalty: .nan) }
        #expect(throws: EngineError.self) { try CompletionJob(prompt: prompt, request: try greedy(4), topLogprobs: 6) }
        #expect(throws: EngineError.self) { try CompletionJob(prompt: prompt, request: try greedy(4), turnStarts: [3, 2]) }
        await scheduler.shutdown(grace: .seconds(5))
    }
}
