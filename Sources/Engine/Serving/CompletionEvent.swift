/// A token with its log probability under the model's distribution (the raw logits, before penalties,
/// temperature or truncation), as OpenAI's `logprobs` reports it.
public struct TokenLogprob: Sendable, Equatable {
    public var token: Int
    /// The token's text on its own (bytes of an incomplete UTF-8 character become U+FFFD).
    public var text: String
    /// The token's bytes.
    public var bytes: [UInt8]
    /// Natural log of its probability.
    public var logprob: Float

    public init(token: Int, text: String, bytes: [UInt8], logprob: Float) {
        self.token = token
        self.text = text
        self.bytes = bytes
        self.logprob = logprob
    }
}

/// One generated token of a stream.
public struct GeneratedToken: Sendable {
    public var token: Int
    /// Text that became complete with this token: "" inside a UTF-8 sequence or while a possible stop string
    /// is held back; stop strings never appear. The last token of a stream also carries whatever was held;
    /// when the stream ends on EOS with text still held, the EOS token is streamed to carry it (EOS is
    /// otherwise never streamed, nor counted in `completionTokens`).
    public var text: String
    /// The chosen token's logprob, when the job asked for `topLogprobs`.
    public var logprob: TokenLogprob?
    /// `topLogprobs` alternatives, best first.
    public var top: [TokenLogprob]
    /// The scheduler step (batched forward pass, counted from 1) whose logits chose this token.
    public var step: Int
}

/// Why a stream ended: `stop` on EOS or a stop string; `length` on max tokens or the context.
public enum FinishReason: String, Sendable {
    case stop, length
}

/// What a completion cost, reported with `.finished`.
public struct CompletionUsage: Sendable, Equatable {
    /// Prompt tokens as submitted.
    public var promptTokens: Int
    /// Tokens generated (EOS not counted).
    public var completionTokens: Int
    /// Prompt tokens whose KV was reused, not computed: from an earlier job of the tenant, or from the
    /// document library (a composed prefix, less what selective recompute recomputed).
    public var cachedTokens: Int
    /// == cachedTokens.
    public var reusedTokens: Int
    /// Chunk tokens recomputed by selective recompute (a composed prefix in `blend` mode).
    public var recomputedTokens: Int
    /// Tokens dropped by overflow re-anchoring (prompt and generation).
    public var droppedTokens: Int
    /// Seconds from submit to the first generated token.
    public var timeToFirstToken: Double

    public init(promptTokens: Int = 0, completionTokens: Int = 0, cachedTokens: Int = 0, reusedTokens: Int = 0,
                recomputedTokens: Int = 0, droppedTokens: Int = 0, timeToFirstToken: Double = 0) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.cachedTokens = cachedTokens
        self.reusedTokens = reusedTokens
        self.recomputedTokens = recomputedTokens
        self.droppedTokens = droppedTokens
        self.timeToFirstToken = timeToFirstToken
    }
}

/// What a completion stream yields.
public enum CompletionEvent: Sendable {
    case token(GeneratedToken)
    /// Always the last event of a stream that did not throw.
    case finished(FinishReason, CompletionUsage)
}
