// SCRATCH: the serving API contract (/work/notes/serving-api.md), to compile the server until wip-sched lands.
// Deleted at the merge of wip-sched.
import Engine
import Tokenizers

public struct CompletionJob: Sendable {
    public var prompt: [Int]
    public var request: GenerationRequest
    public var frequencyPenalty: Float
    public var presencePenalty: Float
    public var topLogprobs: Int?
    public var overflow: ChatOverflow
    public var turnStarts: [Int]
    public var tenant: String
    public init(prompt: [Int], request: GenerationRequest, frequencyPenalty: Float = 0, presencePenalty: Float = 0,
                topLogprobs: Int? = nil, overflow: ChatOverflow = .reanchor, turnStarts: [Int] = [], tenant: String = "") throws {
        self.prompt = prompt; self.request = request; self.frequencyPenalty = frequencyPenalty
        self.presencePenalty = presencePenalty; self.topLogprobs = topLogprobs; self.overflow = overflow
        self.turnStarts = turnStarts; self.tenant = tenant
    }
}
public enum ChatOverflow: String, Sendable, CaseIterable { case reanchor, error }
public struct TokenLogprob: Sendable, Equatable { public var token: Int; public var text: String; public var bytes: [UInt8]; public var logprob: Float }
public struct GeneratedToken: Sendable {
    public var token: Int
    public var text: String
    public var logprob: TokenLogprob?
    public var top: [TokenLogprob]
}
public enum FinishReason: String, Sendable { case stop, length }
public struct CompletionUsage: Sendable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var cachedTokens: Int
    public var reusedTokens: Int
    public var recomputedTokens: Int
    public var droppedTokens: Int
    public var timeToFirstToken: Double
}
public enum CompletionEvent: Sendable {
    case token(GeneratedToken)
    case finished(FinishReason, CompletionUsage)
}
public struct SchedulerConfiguration: Sendable {
    public var maxSequences: Int = 8
    public var maxQueue: Int = 64
    public var kvMemoryBytes: Int? = nil
    public var context: Int? = nil
    public var prefillChunk: Int = 256
    public init(maxSequences: Int = 8, maxQueue: Int = 64, kvMemoryBytes: Int? = nil, context: Int? = nil, prefillChunk: Int = 256) throws {}
}
public enum SchedulerError: Error, Sendable, Equatable {
    case queueFull(retryAfterSeconds: Int)
    case shuttingDown
    case promptTooLong(tokens: Int, context: Int)
    case budgetTooSmall(tokensNeeded: Int, budgetTokens: Int)
}
public struct SchedulerSnapshot: Sendable {
    public var running: Int; public var queued: Int
    public var kvBytesInUse: Int; public var kvBytesBudget: Int
    public var promptTokens: Int; public var generatedTokens: Int; public var cachedTokens: Int
}
public final class Scheduler: Sendable {
    public init(languageModel: LanguageModel, configuration: SchedulerConfiguration) throws { fatalError("scratch") }
    public func submit(_ job: CompletionJob) throws -> AsyncThrowingStream<CompletionEvent, Error> { fatalError("scratch") }
    public func shutdown(grace: Duration) async { fatalError("scratch") }
    public var snapshot: SchedulerSnapshot { fatalError("scratch") }
    public var tokenizer: BPETokenizer { fatalError("scratch") }
}
