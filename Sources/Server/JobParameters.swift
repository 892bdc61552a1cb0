import Engine

/// What a request asks of generation, checked against the OpenAI API's ranges (and the extension's), ready to
/// become a `CompletionJob` once the prompt is tokenized.
struct JobParameters: Sendable {
    var request: GenerationRequest
    var frequencyPenalty: Float
    var presencePenalty: Float
    var topLogprobs: Int?
    var overflow: ChatOverflow
    var stream: Bool
    var includeUsage: Bool

    /// The most alternatives per token a request may ask for.
    static let maximumTopLogprobs = 5
    /// The most stop strings, and the longest one, a request may give.
    static let maximumStopStrings = 16
    static let maximumStopLength = 1024

    /// - defaultMaxTokens: when the request gives neither `max_tokens` nor `max_completion_tokens`.
    /// - topLogprobs: already checked by the endpoint (its field names differ).
    init(_ fields: SamplingFields, defaultMaxTokens: Int, topLogprobs: Int?) throws {
        if let n = fields.n, n != 1 { throw APIError.invalid("n", "'n' must be 1 (one choice per request), found \(n).") }
        let maxTokensField = fields.maxCompletionTokens != nil ? "max_completion_tokens" : "max_tokens"
        let maxTokens = fields.maxCompletionTokens ?? fields.maxTokens ?? defaultMaxTokens
        guard maxTokens >= 1 else { throw APIError.invalid(maxTokensField, "'\(maxTokensField)' must be >= 1, found \(maxTokens).") }
        let temperature = try Self.ranged(fields.temperature, "temperature", default: 1, in: 0...2)
        let topP = try Self.ranged(fields.topP, "top_p", default: 1, in: 0...1)
        guard topP > 0 else { throw APIError.invalid("top_p", "'top_p' must be in (0, 1], found 0.") }
        frequencyPenalty = Float(try Self.ranged(fields.frequencyPenalty, "frequency_penalty", default: 0, in: -2...2))
        presencePenalty = Float(try Self.ranged(fields.presencePenalty, "presence_penalty", default: 0, in: -2...2))
        let extensions = fields.reanchor
        let topK = extensions?.topK ?? 0
        guard topK >= 0 else { throw APIError.invalid("reanchor.top_k", "'reanchor.top_k' must be >= 0, found \(topK).") }
        let repetitionPenalty = extensions?.repetitionPenalty ?? 1
        guard repetitionPenalty > 0, repetitionPenalty <= 1e6 else {
            throw APIError.invalid("reanchor.repetition_penalty", "'reanchor.repetition_penalty' must be in (0, 1e6], found \(repetitionPenalty).")
        }
        let overflowName = extensions?.overflow ?? ChatOverflow.reanchor.rawValue
        guard let overflow = ChatOverflow(rawValue: overflowName) else {
            throw APIError.invalid("reanchor.overflow", "'reanchor.overflow' must be one of "
                                   + ChatOverflow.allCases.map(\.rawValue).joined(separator: ", ") + ", found '\(overflowName)'.")
        }
        self.overflow = overflow
        let stops = fields.stop?.strings ?? []
        guard stops.count <= Self.maximumStopStrings else {
            throw APIError.invalid("stop", "'stop' holds at most \(Self.maximumStopStrings) strings, found \(stops.count).")
        }
        for stop in stops where stop.isEmpty || stop.unicodeScalars.count > Self.maximumStopLength {
            throw APIError.invalid("stop", "each 'stop' string must be 1 to \(Self.maximumStopLength) characters long.")
        }
        // Without a seed, sampling differs between requests, as in the OpenAI API.
        let seed = fields.seed.map { UInt64(bitPattern: Int64($0)) } ?? UInt64.random(in: .min ... .max)
        request = try GenerationRequest(
            maxTokens: maxTokens,
            sampling: SamplingParameters(temperature: Float(temperature), topK: topK, topP: Float(topP),
                                         repetitionPenalty: Float(repetitionPenalty), seed: seed),
            stopStrings: stops, stopOnEOS: !(extensions?.ignoreEOS ?? false))
        self.topLogprobs = topLogprobs
        stream = fields.stream ?? false
        includeUsage = stream && fields.streamOptions?.includeUsage == true
        if fields.streamOptions != nil && !stream {
            throw APIError.invalid("stream_options", "'stream_options' is only allowed with 'stream': true.")
        }
    }

    /// Checks a logprobs count (0...5) under its field name.
    static func checkedTopLogprobs(_ value: Int?, field: String) throws -> Int? {
        guard let value else { return nil }
        guard (0...maximumTopLogprobs).contains(value) else {
            throw APIError.invalid(field, "'\(field)' must be in 0...\(maximumTopLogprobs), found \(value).")
        }
        return value
    }

    /// The job for `prompt` (token ids as fed to the model).
    func job(prompt: [Int], turnStarts: [Int] = [], tenant: String) throws -> CompletionJob {
        try CompletionJob(prompt: prompt, request: request, frequencyPenalty: frequencyPenalty, presencePenalty: presencePenalty,
                          topLogprobs: topLogprobs, overflow: overflow, turnStarts: turnStarts, tenant: tenant)
    }

    private static func ranged(_ value: Double?, _ field: String, default fallback: Double, in range: ClosedRange<Double>) throws -> Double {
        guard let value else { return fallback }
        guard value.isFinite, range.contains(value) else {
            throw APIError.invalid(field, "'\(field)' must be in [\(range.lowerBound), \(range.upperBound)], found \(value).")
        }
        return value
    }
}
