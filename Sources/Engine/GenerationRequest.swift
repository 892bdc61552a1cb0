/// One generation request: where to stop and how to sample.
public struct GenerationRequest: Sendable {
    public var maxTokens: Int
    public var sampling: SamplingParameters
    /// Generation ends when the text contains one of these; the stop string itself is not output.
    public var stopStrings: [String]
    /// Stop on the model's end-of-sequence tokens.
    public var stopOnEOS: Bool

    public init(maxTokens: Int = 128, sampling: SamplingParameters = .greedy, stopStrings: [String] = [], stopOnEOS: Bool = true) throws {
        guard maxTokens >= 0 else { throw EngineError.invalidParameter(name: "max-tokens", reason: "must be >= 0, found \(maxTokens)") }
        guard !stopStrings.contains("") else { throw EngineError.invalidParameter(name: "stop", reason: "stop strings must not be empty") }
        self.maxTokens = maxTokens
        self.sampling = sampling
        self.stopStrings = stopStrings
        self.stopOnEOS = stopOnEOS
    }

    /// Tokens this request can generate after `promptTokens` in a `context`-token window without truncation:
    /// `maxTokens` clamped to the room left. Never overflows, so `maxTokens` may be `Int.max` ("no limit").
    public func tokensThatFit(promptTokens: Int, context: Int) -> Int {
        min(maxTokens, max(context - max(promptTokens, 0), 0))
    }
}

/// A context window in tokens, checked against the model before any cache is sized for it: at least 2
/// (one token and its successor) and at most the model's `max_position_embeddings`, the positions it was
/// trained for and the largest cache a request can make us allocate.
public struct ContextWindow: Sendable, Equatable {
    public let tokens: Int

    /// - requested: the window asked for, or nil for the model's own.
    /// - modelWindow: the positions the model can use (`ModelConfig.usableWindow`: `max_position_embeddings`,
    ///   or less for dynamic NTK).
    public init(requested: Int?, modelWindow: Int) throws {
        let tokens = requested ?? modelWindow
        guard tokens >= 2 else { throw EngineError.invalidParameter(name: "context", reason: "must be >= 2, found \(tokens)") }
        guard tokens <= modelWindow else {
            throw EngineError.invalidParameter(
                name: "context",
                reason: "\(tokens) exceeds the model's window of \(modelWindow) tokens (max_position_embeddings, or the original context of dynamic RoPE scaling); use at most \(modelWindow)")
        }
        self.tokens = tokens
    }
}

/// Why generation ended.
public enum StopReason: String, Sendable {
    case maxTokens = "max_tokens"
    case endOfSequence = "eos"
    case stopString = "stop_string"
    case contextFull = "context_full"
}

/// What a generation produced, with its timings.
public struct GenerationResult: Sendable {
    public var promptTokens: Int
    public var tokens: [Int]
    public var text: String
    public var stopReason: StopReason
    /// Seconds from the request to the first generated token.
    public var timeToFirstToken: Double
    /// Seconds spent on the prompt's forward pass.
    public var prefillSeconds: Double
    /// Seconds spent on the decode steps after the first token.
    public var decodeSeconds: Double

    public var prefillTokensPerSecond: Double { prefillSeconds > 0 ? Double(promptTokens) / prefillSeconds : 0 }
    /// Forward passes of one token after the prompt (tokens fed back; the last token generated is fed only
    /// when it was not the last one asked for, so a stop on EOS costs one more step than on the budget).
    public var decodeSteps: Int = 0

    /// Decode steps per second over the decode time.
    public var decodeTokensPerSecond: Double {
        decodeSeconds > 0 ? Double(decodeSteps) / decodeSeconds : 0
    }
}
