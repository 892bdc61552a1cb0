/// Request fields shared by `/v1/completions` and `/v1/chat/completions`, as the OpenAI API names them.
/// Unknown fields are ignored; a field of the wrong type fails decoding, which `ErrorMapping` reports naming it.
struct SamplingFields: Decodable, Sendable {
    var model: String
    var maxTokens: Int?
    var maxCompletionTokens: Int?
    var temperature: Double?
    var topP: Double?
    var seed: Int?
    var stop: StopField?
    var frequencyPenalty: Double?
    var presencePenalty: Double?
    var n: Int?
    var stream: Bool?
    var streamOptions: StreamOptions?
    var reanchor: ReanchorExtension?

    enum CodingKeys: String, CodingKey {
        case model, temperature, seed, stop, n, stream, reanchor
        case maxTokens = "max_tokens", maxCompletionTokens = "max_completion_tokens", topP = "top_p"
        case frequencyPenalty = "frequency_penalty", presencePenalty = "presence_penalty"
        case streamOptions = "stream_options"
    }
}

/// `stream_options`.
struct StreamOptions: Decodable, Sendable {
    /// Send a last chunk with `usage` (and `"usage": null` in the others).
    var includeUsage: Bool?

    enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
}

/// The documented `reanchor` extension object: sampling controls OpenAI lacks, and what a chat does when
/// its conversation outgrows the context.
struct ReanchorExtension: Decodable, Sendable {
    /// Keep the k most likely tokens; 0 disables.
    var topK: Int?
    /// transformers' repetition penalty (> 0; 1 disables).
    var repetitionPenalty: Double?
    /// `reanchor` (default): drop the oldest turns after the system prompt and re-anchor the rest; `error`: 400.
    var overflow: String?

    enum CodingKeys: String, CodingKey {
        case topK = "top_k", repetitionPenalty = "repetition_penalty", overflow
    }
}

/// `stop`: a string or a list of strings.
struct StopField: Decodable, Sendable, DescribedType {
    static let expectation = "a string or an array of strings"
    var strings: [String]

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let single = try? container.decode(String.self) {
            strings = [single]
        } else if let list = try? container.decode([String].self) {
            strings = list
        } else if container.decodeNil() {
            strings = []
        } else {
            throw DecodingError.typeMismatch(StopField.self, .init(codingPath: decoder.codingPath, debugDescription: Self.expectation))
        }
    }
}
