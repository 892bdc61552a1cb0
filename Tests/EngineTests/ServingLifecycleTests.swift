import Foundation
import Testing
import Engine

/// Admission limits, cancellation and shutdown.
@Suite struct ServingLifecycleTests {
    let languageModel: LanguageModel

    init() throws { languageModel = try loadServingModel() }

    var prompt: [Int] { languageModel.tokenizer.encode("Once upon a time", addSpecialTokens: true) }

    @Test func queueFullBeyondMaxQueue() async throws {
        let scheduler = try Scheduler(languageModel: languageModel, configuration: try SchedulerConfiguration(maxSequences: 1, maxQueue: 2))
        let running = try scheduler.submit(try CompletionJob(prompt: prompt, request: try greedy(100_000)))
        #expect(await eventually { scheduler.snapshot.running == 1 })
        let waiting = try (0..<2).map { _ in try scheduler.submit(try CompletionJob(prompt: prompt, request: try greedy(4))) }
        #expect(scheduler.snapshot.queued == 2)
        #expect {
            _ = try scheduler.submit(try CompletionJob(prompt: prompt, request: try greedy(4)))
        } throws: { error in
            guard case SchedulerError.queueFull(let seconds) = error else { return false }
            return seconds >= 1
        }
        await scheduler.shutdown(grace: .zero)
        // Past the grace, running and queued jobs are cancelled.
        for stream in [running] + waiting {
            await #expect(throws: CancellationError.self) { _ = try await collect(stream) }
        }
        #expect(throws: SchedulerError.shuttingDown) { try scheduler.submit(try CompletionJob(prompt: prompt, request: try greedy(4))) }
    }

    @Test func cancellingTheConsumerFreesTheKV() async throws {
        let scheduler = try Scheduler(languageModel: languageModel, configuration: SchedulerConfiguration())
        let stream = try scheduler.submit(try CompletionJob(prompt: prompt, request: try greedy(100_000)))
        let consumer = Task {
            var count = 0
            for try await event in stream { if case .token = event { count += 1 } }
            return count
        }
        #expect(await eventually { scheduler.snapshot.kvBytesInUse > 0 && scheduler.snapshot.running == 1 })
        let held = scheduler.snapshot.kvBytesInUse
        consumer.cancel()
        #expect(await eventually { scheduler.snapshot.kvBytesInUse == 0 && scheduler.snapshot.running == 0 },
                "KV in use after cancel: \(scheduler.snapshot.kvBytesInUse) (was \(held))")
        await scheduler.shutdown(grace: .seconds(5))
    }

    @Test func shutdownFinishesRunningJobs() async throws {
        let scheduler = try Scheduler(languageModel: languageModel, configuration: try SchedulerConfiguration(maxSequences: 2))
        let streams = try (0..<3).map { _ in try scheduler.submit(try CompletionJob(prompt: prompt, request: try greedy(20))) }
        await scheduler.shutdown(grace: .seconds(60))
        for stream in streams {
            let result = try await collect(stream)
            #expect(result.reason == .length)
            #expect(result.tokens.count == 20)
        }
        #expect(scheduler.snapshot.kvBytesInUse == 0)
        #expect(throws: SchedulerError.shuttingDown) { try scheduler.submit(try CompletionJob(prompt: prompt, request: try greedy(4))) }
    }

    /// Two jobs whose KV does not fit the budget together: the second waits for the first, whose parked KV is
    /// then evicted to make room, and both generate what they generate alone.
    @Test func admissionWaitsForTheBudgetAndEvictsParkedKV() async throws {
        let bytesPerToken = 6 * 4 * 32 * 3 * 4
        let scheduler = try Scheduler(languageModel: languageModel,
                                      configuration: try SchedulerConfiguration(kvMemoryBytes: 64 * bytesPerToken))
        let request = try greedy(40 - prompt.count)
        let first = try scheduler.submit(try CompletionJob(prompt: prompt, request: request, tenant: "a"))
        let second = try scheduler.submit(try CompletionJob(prompt: prompt, request: request, tenant: "b"))
        let (a, b) = (try await collect(first), try await collect(second))
        let expected = try Generator(languageModel: languageModel).generate(promptTokens: prompt, request: request).tokens
        #expect(a.tokens == expected && b.tokens == expected)
        #expect(try #require(b.events.first).step > (try #require(a.events.last).step), "the second job did not wait")
        #expect(b.usage?.cachedTokens == 0)
        #expect(scheduler.snapshot.kvBytesInUse <= scheduler.snapshot.kvBytesBudget)
        await scheduler.shutdown(grace: .seconds(5))
    }

    @Test func budgetAndVocabularyAreChecked() async throws {
        let bytesPerToken = 6 * 4 * 32 * 3 * 4  // layers * kvHeads * d * (K, V, canonical K) * f32
        let scheduler = try Scheduler(languageModel: languageModel,
                                      configuration: try SchedulerConfiguration(kvMemoryBytes: 64 * bytesPerToken))
        #expect(scheduler.budgetTokens == 64)
        #expect(scheduler.snapshot.kvBytesBudget == 64 * bytesPerToken)
        #expect(throws: SchedulerError.budgetTooSmall(tokensNeeded: prompt.count + 100, budgetTokens: 64)) {
            try scheduler.submit(try CompletionJob(prompt: prompt, request: try greedy(100)))
        }
        #expect(throws: EngineError.self) { try scheduler.submit(try CompletionJob(prompt: [5, 4096], request: try greedy(4))) }
        #expect(throws: EngineError.self) { try SchedulerConfiguration(maxSequences: 0) }
        #expect(throws: EngineError.self) { try SchedulerConfiguration(prefillChunk: 0) }
        #expect(throws: EngineError.self) {
            try Scheduler(languageModel: languageModel, configuration: try SchedulerConfiguration(context: 4096))
        }
        await scheduler.shutdown(grace: .seconds(5))
    }
}
