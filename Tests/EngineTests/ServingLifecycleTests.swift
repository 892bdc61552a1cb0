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
