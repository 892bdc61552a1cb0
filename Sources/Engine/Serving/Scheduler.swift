import Foundation
import Models
import Tokenizers

/// Continuous batching over one model and one KV cache, on its own thread (forward passes block, so they
/// never run on the Swift cooperative pool).
///
/// Every step runs one batched forward pass: one row per decoding sequence plus up to `prefillChunk` prompt
/// tokens of the sequences still prefilling, so a long prompt never stalls the running streams for more than
/// one chunk. Jobs are admitted in order while fewer than `maxSequences` run and their KV
/// (`min(prompt + maxTokens, context)` tokens) fits the budget; otherwise they wait, and beyond `maxQueue`
/// waiting jobs `submit` throws `queueFull`. A finished sequence's KV stays parked for the tenant's next turn
/// (exact prefix reuse), evicted least recently parked first when admission needs the room.
public final class Scheduler: Sendable {
    public let configuration: SchedulerConfiguration
    /// Tokens per sequence (positions stay below it).
    public let context: Int
    /// The KV budget in tokens, and the bytes one token's K/V takes.
    public let budgetTokens: Int
    public let bytesPerToken: Int
    private let inbox = SchedulerInbox()
    private let engine: SchedulerEngine
    private let vocabularySize: Int

    /// Throws `EngineError.invalidParameter` naming the option when the context exceeds the model's window or
    /// the KV budget holds fewer than 2 tokens.
    public convenience init(languageModel: LanguageModel, configuration: SchedulerConfiguration) throws {
        try self.init(model: languageModel.model, tokenizer: languageModel.tokenizer, configuration: configuration)
    }

    /// A scheduler over any causal LM and a tokenizer for its output text (benchmarks run random-weight
    /// shapes with the embedded model's tokenizer; ids it does not know decode to no text).
    public init(model: any CausalLanguageModel, tokenizer: BPETokenizer, configuration: SchedulerConfiguration) throws {
        context = try ContextWindow(requested: configuration.context, modelWindow: model.config.usableWindow).tokens
        let geometry = model.cacheGeometry(capacity: 1)
        // K, V and canonical K (anchored storage), f32.
        let bytesPerToken = geometry.layers * (2 * geometry.keyWidth + geometry.valueWidth) * MemoryLayout<Float>.stride
        self.bytesPerToken = bytesPerToken
        let (defaultTokens, overflow) = context.multipliedReportingOverflow(by: configuration.maxSequences)
        let tokens = configuration.kvMemoryBytes.map { $0 / bytesPerToken } ?? (overflow ? Int.max : defaultTokens)
        guard tokens >= 2 else {
            throw EngineError.invalidParameter(name: "kv-memory", reason: "\(configuration.kvMemoryBytes ?? 0) bytes hold \(tokens) tokens "
                                               + "at \(bytesPerToken) bytes per token; at least 2 are needed")
        }
        budgetTokens = tokens
        self.configuration = configuration
        vocabularySize = model.config.vocabularySize
        engine = SchedulerEngine(model: model, tokenizer: tokenizer, configuration: configuration, context: context,
                                 budgetTokens: tokens, bytesPerToken: bytesPerToken, inbox: inbox)
        inbox.snapshot.kvBytesBudget = tokens.multipliedReportingOverflow(by: bytesPerToken).overflow ? Int.max : tokens * bytesPerToken
        let engine = engine
        let thread = Thread { engine.run() }
        thread.name = "reanchor-scheduler"
        thread.stackSize = 8 << 20
        thread.start()
    }

    deinit { inbox.requestShutdown(grace: 0) }

    public var tokenizer: BPETokenizer { engine.tokenizer }

    public var snapshot: SchedulerSnapshot { inbox.locked { inbox.snapshot } }

    /// Queues the job. The stream yields tokens then `.finished`; when its consumer stops listening
    /// (client disconnect: the stream is terminated or cancelled), the sequence is cancelled and its KV
    /// freed at once.
    /// - Throws: `EngineError.invalidParameter` for a token outside the vocabulary; `SchedulerError`
    ///   `promptTooLong`, `budgetTooSmall`, `queueFull`, `shuttingDown`.
    public func submit(_ job: CompletionJob) throws -> AsyncThrowingStream<CompletionEvent, Error> {
        if let bad = job.prompt.first(where: { $0 < 0 || $0 >= vocabularySize }) {
            throw EngineError.invalidParameter(name: "prompt", reason: "token id \(bad) is outside the vocabulary [0, \(vocabularySize))")
        }
        let dropped = try OverflowPlan.prompt(job, context: context)
        let kept = job.prompt.count - (dropped?.count ?? 0)
        let needed = min(kept + min(job.request.maxTokens, context), context)
        guard needed <= budgetTokens else { throw SchedulerError.budgetTooSmall(tokensNeeded: needed, budgetTokens: budgetTokens) }
        let (stream, continuation) = AsyncThrowingStream<CompletionEvent, Error>.makeStream()
        let inbox = inbox
        let id: UInt64 = try inbox.locked {
            guard !inbox.shuttingDown else { throw SchedulerError.shuttingDown }
            let freeSlots = max(configuration.maxSequences - inbox.snapshot.running, 0)
            guard inbox.queue.count < configuration.maxQueue + freeSlots else {
                let waves = inbox.queue.count / configuration.maxSequences + 1
                throw SchedulerError.queueFull(retryAfterSeconds: max(1, waves))
            }
            inbox.nextID += 1
            inbox.queue.append(QueuedJob(id: inbox.nextID, job: job, continuation: continuation, submitted: Clock.now(),
                                         dropped: dropped, reservedTokens: needed))
            inbox.snapshot.queued = inbox.queue.count
            inbox.condition.signal()
            return inbox.nextID
        }
        continuation.onTermination = { termination in
            if case .cancelled = termination { inbox.cancel(id) }
        }
        return stream
    }

    /// Stops admitting (`submit` throws `.shuttingDown`), lets running and queued jobs finish within `grace`,
    /// then cancels the rest (their streams throw `CancellationError`). Returns when the engine thread has stopped.
    public func shutdown(grace: Duration) async {
        let seconds = Double(grace.components.seconds) + Double(grace.components.attoseconds) * 1e-18
        inbox.requestShutdown(grace: seconds)
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let done: Bool = inbox.locked {
                if inbox.stopped { return true }
                inbox.stopWaiters.append(waiter)
                return false
            }
            if done { waiter.resume() }
        }
    }
}
