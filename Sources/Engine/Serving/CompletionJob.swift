/// What to do when a chat no longer fits the context window.
public enum ChatOverflow: String, Sendable, CaseIterable {
    /// Drop the oldest turns after the system prompt (or, without turns, the oldest half after 4 sink tokens)
    /// and re-anchor what is left with one rotation of its cached keys.
    case reanchor
    /// A prompt that does not fit is refused (`SchedulerError.promptTooLong`); generation that reaches the
    /// context ends with `FinishReason.length`.
    case error
}

/// One completion for the scheduler, prepared by the caller: the prompt is already templated and tokenized.
public struct CompletionJob: Sendable {
    /// Token ids as fed to the model (BOS and template included).
    public var prompt: [Int]
    /// maxTokens, sampling (temperature, topK, topP, repetitionPenalty, seed), stopStrings, stopOnEOS.
    public var request: GenerationRequest
    /// OpenAI semantics, in [-2, 2]: `logit -= frequencyPenalty * count(token among generated)`.
    public var frequencyPenalty: Float
    /// In [-2, 2]: `logit -= presencePenalty * (count > 0 ? 1 : 0)`.
    public var presencePenalty: Float
    /// nil: no logprobs; 0...5: the chosen token's logprob and this many alternatives.
    public var topLogprobs: Int?
    public var overflow: ChatOverflow
    /// Ascending offsets in `prompt` where each chat turn after the system prompt starts. Overflow drops
    /// whole turns, oldest first, keeping `prompt[0..<turnStarts[0]]`; empty: keep 4 sink tokens and drop
    /// the oldest half of the rest (as the command line's `Truncation` does).
    public var turnStarts: [Int]
    /// Exact-prefix KV reuse happens only between jobs of the same tenant.
    public var tenant: String
    /// K/V composed for the prompt's first tokens (fewer than all: the last prompt token is always computed,
    /// which gives the first logits); nil: the prompt is computed (after any parked prefix of the tenant).
    public private(set) var composed: ComposedPrefix?
    /// Whether the job may adopt a parked sequence of its tenant holding a prefix of its prompt (false: the
    /// whole prompt is computed, as full recompute asks).
    public var reusesParked = true

    /// The most alternatives `topLogprobs` may ask for (OpenAI's limit).
    public static let maximumTopLogprobs = 5

    /// Throws `EngineError.invalidParameter` naming the parameter (`prompt`, `frequency_penalty`,
    /// `presence_penalty`, `top_logprobs`, `turn_starts`).
    public init(prompt: [Int], request: GenerationRequest, frequencyPenalty: Float = 0, presencePenalty: Float = 0,
                topLogprobs: Int? = nil, overflow: ChatOverflow = .reanchor, turnStarts: [Int] = [], tenant: String = "") throws {
        guard !prompt.isEmpty else { throw EngineError.invalidParameter(name: "prompt", reason: "must hold at least one token") }
        for (name, value) in [("frequency_penalty", frequencyPenalty), ("presence_penalty", presencePenalty)] {
            guard value.isFinite, value >= -2, value <= 2 else {
                throw EngineError.invalidParameter(name: name, reason: "must be in [-2, 2], found \(value)")
            }
        }
        if let topLogprobs, topLogprobs < 0 || topLogprobs > Self.maximumTopLogprobs {
            throw EngineError.invalidParameter(name: "top_logprobs", reason: "must be in [0, \(Self.maximumTopLogprobs)], found \(topLogprobs)")
        }
        var previous = -1
        for start in turnStarts {
            guard start > previous, start < prompt.count else {
                throw EngineError.invalidParameter(name: "turn_starts",
                                                   reason: "must be ascending offsets in [0, \(prompt.count)), found \(turnStarts.prefix(8))")
            }
            previous = start
        }
        self.prompt = prompt
        self.request = request
        self.frequencyPenalty = frequencyPenalty
        self.presencePenalty = presencePenalty
        self.topLogprobs = topLogprobs
        self.overflow = overflow
        self.turnStarts = turnStarts
        self.tenant = tenant
    }

    /// Sets the composed K/V of the prompt's first tokens. Throws `EngineError.invalidParameter` ("composed")
    /// unless its tokens start the prompt and leave at least one token to compute.
    public mutating func compose(_ prefix: ComposedPrefix) throws {
        guard prefix.tokens.count < prompt.count else {
            throw EngineError.invalidParameter(name: "composed",
                                               reason: "covers \(prefix.tokens.count) tokens of a \(prompt.count)-token prompt; the last must be computed")
        }
        guard prompt.starts(with: prefix.tokens) else {
            throw EngineError.invalidParameter(name: "composed", reason: "its tokens are not the prompt's first \(prefix.tokens.count)")
        }
        composed = prefix
    }
}
