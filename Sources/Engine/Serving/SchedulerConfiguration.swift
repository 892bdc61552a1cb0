/// How a `Scheduler` batches and how much KV memory it may hold. Validated at construction.
public struct SchedulerConfiguration: Sendable, Equatable {
    /// Sequences decoding at once (rows of one batched forward pass, besides a prefill chunk).
    public var maxSequences: Int = 8
    /// Jobs waiting for admission (beyond the free sequence slots); beyond: `SchedulerError.queueFull`.
    public var maxQueue: Int = 64
    /// KV budget in bytes (running and parked sequences); nil: `context * maxSequences` tokens' worth.
    public var kvMemoryBytes: Int? = nil
    /// Per-sequence window in tokens; nil: the model's usable window.
    public var context: Int? = nil
    /// Prompt tokens per prefill slice, run in the same forward pass as the running decodes.
    public var prefillChunk: Int = 256

    /// Upper bounds that keep a configuration from asking for absurd allocations.
    public static let maximumSequences = 1024
    public static let maximumQueue = 1 << 20

    /// Throws `EngineError.invalidParameter` naming the command-line option (`max-sequences`, `max-queue`,
    /// `kv-memory`, `context`, `prefill-chunk`).
    public init(maxSequences: Int = 8, maxQueue: Int = 64, kvMemoryBytes: Int? = nil, context: Int? = nil,
                prefillChunk: Int = 256) throws {
        guard maxSequences >= 1, maxSequences <= Self.maximumSequences else {
            throw EngineError.invalidParameter(name: "max-sequences", reason: "must be in [1, \(Self.maximumSequences)], found \(maxSequences)")
        }
        guard maxQueue >= 0, maxQueue <= Self.maximumQueue else {
            throw EngineError.invalidParameter(name: "max-queue", reason: "must be in [0, \(Self.maximumQueue)], found \(maxQueue)")
        }
        if let kvMemoryBytes, kvMemoryBytes <= 0 {
            throw EngineError.invalidParameter(name: "kv-memory", reason: "must be > 0 bytes, found \(kvMemoryBytes)")
        }
        if let context, context < 2 {
            throw EngineError.invalidParameter(name: "context", reason: "must be >= 2, found \(context)")
        }
        guard prefillChunk >= 1 else {
            throw EngineError.invalidParameter(name: "prefill-chunk", reason: "must be >= 1, found \(prefillChunk)")
        }
        self.maxSequences = maxSequences
        self.maxQueue = maxQueue
        self.kvMemoryBytes = kvMemoryBytes
        self.context = context
        self.prefillChunk = prefillChunk
    }
}

/// Why the scheduler refused or ended a job.
public enum SchedulerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The admission queue is full; try again after about this many seconds.
    case queueFull(retryAfterSeconds: Int)
    /// `shutdown` was called: no new jobs.
    case shuttingDown
    /// The prompt does not fit the context (only with `ChatOverflow.error`, or when no turn can be dropped).
    case promptTooLong(tokens: Int, context: Int)
    /// One job alone can never fit the KV budget.
    case budgetTooSmall(tokensNeeded: Int, budgetTokens: Int)

    public var description: String {
        switch self {
        case .queueFull(let seconds): return "the queue is full; retry after \(seconds) s"
        case .shuttingDown: return "the server is shutting down"
        case let .promptTooLong(tokens, context):
            return "the prompt has \(tokens) tokens, more than fit the context of \(context) tokens"
        case let .budgetTooSmall(needed, budget):
            return "the job needs \(needed) tokens of KV memory (prompt and max tokens), but the KV budget holds \(budget)"
        }
    }
}

/// The scheduler's state at one moment, for metrics.
public struct SchedulerSnapshot: Sendable, Equatable {
    public var running: Int
    public var queued: Int
    /// Bytes of KV held by running and parked sequences (cells in use times bytes per cell).
    public var kvBytesInUse: Int
    public var kvBytesBudget: Int
    /// Totals since start.
    public var promptTokens: Int
    public var generatedTokens: Int
    public var cachedTokens: Int

    public init(running: Int = 0, queued: Int = 0, kvBytesInUse: Int = 0, kvBytesBudget: Int = 0, promptTokens: Int = 0,
                generatedTokens: Int = 0, cachedTokens: Int = 0) {
        self.running = running
        self.queued = queued
        self.kvBytesInUse = kvBytesInUse
        self.kvBytesBudget = kvBytesBudget
        self.promptTokens = promptTokens
        self.generatedTokens = generatedTokens
        self.cachedTokens = cachedTokens
    }
}
