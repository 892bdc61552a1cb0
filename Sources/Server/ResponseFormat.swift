import Engine

/// The JSON of one response, in the shape of its endpoint: `chat.completion` / `chat.completion.chunk` for
/// chat, `text_completion` for completions (streamed chunks too, as OpenAI does).
struct ResponseFormat: Sendable {
    enum Endpoint: Sendable {
        case completions
        case chat
    }

    let endpoint: Endpoint
    /// `chatcmpl-...` / `cmpl-...`.
    let id: String
    let created: Int
    let model: String
    /// Whether the request asked for logprobs (`null` otherwise).
    let logprobs: Bool
    /// Streamed chunks carry `"usage": null` and a final usage chunk.
    let includeUsage: Bool

    init(endpoint: Endpoint, requestID: String, created: Int, model: String, logprobs: Bool, includeUsage: Bool) {
        self.endpoint = endpoint
        id = (endpoint == .chat ? "chatcmpl-" : "cmpl-") + requestID
        self.created = created
        self.model = model
        self.logprobs = logprobs
        self.includeUsage = includeUsage
    }

    /// `usage`, with OpenAI's `prompt_tokens_details.cached_tokens` and the `reanchor` figures.
    static func usage(_ usage: CompletionUsage) -> JSONOutput {
        .object([
            ("prompt_tokens", .int(usage.promptTokens)),
            ("completion_tokens", .int(usage.completionTokens)),
            ("total_tokens", .int(usage.promptTokens + usage.completionTokens)),
            ("prompt_tokens_details", .object([("cached_tokens", .int(usage.cachedTokens))])),
            ("reanchor", .object([
                ("ttft_ms", .double((usage.timeToFirstToken * 1000 * 1000).rounded() / 1000)),
                ("reused_tokens", .int(usage.reusedTokens)),
                ("recomputed_tokens", .int(usage.recomputedTokens)),
                ("dropped_tokens", .int(usage.droppedTokens)),
            ])),
        ])
    }

    /// The whole (non-streamed) response.
    func completion(text: String, logprobEntries: LogprobEntries, finish: FinishReason, usage: CompletionUsage) -> JSONOutput {
        let choice: JSONOutput
        switch endpoint {
        case .chat:
            choice = .object([
                ("index", .int(0)),
                ("message", .object([("role", .string("assistant")), ("content", .string(text)), ("refusal", .null)])),
                ("logprobs", logprobs ? logprobEntries.chat : .null),
                ("finish_reason", .string(finish.rawValue)),
            ])
        case .completions:
            choice = .object([
                ("text", .string(text)),
                ("index", .int(0)),
                ("logprobs", logprobs ? logprobEntries.legacy : .null),
                ("finish_reason", .string(finish.rawValue)),
            ])
        }
        return .object(header(object: endpoint == .chat ? "chat.completion" : "text_completion")
                       + [("choices", .array([choice])), ("usage", Self.usage(usage))])
    }

    /// One streamed chunk: a piece of text (chat's first chunk also carries the role), its tokens' logprobs,
    /// and the finish reason on the last.
    func chunk(text: String, role: Bool = false, logprobEntries: LogprobEntries, finish: FinishReason?) -> JSONOutput {
        let finishReason = JSONOutput.optional(finish.map { .string($0.rawValue) })
        let choice: JSONOutput
        switch endpoint {
        case .chat:
            var delta: [(String, JSONOutput)] = role ? [("role", .string("assistant"))] : []
            if role || !text.isEmpty || finish == nil { delta.append(("content", .string(text))) }
            choice = .object([
                ("index", .int(0)),
                ("delta", .object(delta)),
                ("logprobs", logprobs && !logprobEntries.isEmpty ? logprobEntries.chat : .null),
                ("finish_reason", finishReason),
            ])
        case .completions:
            choice = .object([
                ("text", .string(text)),
                ("index", .int(0)),
                ("logprobs", logprobs && !logprobEntries.isEmpty ? logprobEntries.legacy : .null),
                ("finish_reason", finishReason),
            ])
        }
        var members = header(object: chunkObject) + [("choices", .array([choice]))]
        if includeUsage { members.append(("usage", .null)) }
        return .object(members)
    }

    /// The last chunk of a stream with `include_usage`: no choices, the usage.
    func usageChunk(_ usage: CompletionUsage) -> JSONOutput {
        .object(header(object: chunkObject) + [("choices", .array([])), ("usage", Self.usage(usage))])
    }

    private var chunkObject: String { endpoint == .chat ? "chat.completion.chunk" : "text_completion" }

    private func header(object: String) -> [(String, JSONOutput)] {
        [("id", .string(id)), ("object", .string(object)), ("created", .int(created)), ("model", .string(model)),
         ("system_fingerprint", .null)]
    }
}
