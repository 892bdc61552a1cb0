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
    /// Tokens per second over the decode steps (each step makes one token after the first).
    public var decodeTokensPerSecond: Double {
        decodeSeconds > 0 ? Double(max(tokens.count - 1, 0)) / decodeSeconds : 0
    }
}
