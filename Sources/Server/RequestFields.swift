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

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decode(String.self, forKey: .model)
        maxTokens = try container.decodeInteger(forKey: .maxTokens)
        maxCompletionTokens = try container.decodeInteger(forKey: .maxCompletionTokens)
        temperature = try container.decodeNumber(Double.self, forKey: .temperature)
        topP = try container.decodeNumber(Double.self, forKey: .topP)
        seed = try container.decodeInteger(forKey: .seed)
        stop = try container.decodeIfPresent(StopField.self, forKey: .stop)
        frequencyPenalty = try container.decodeNumber(Double.self, forKey: .frequencyPenalty)
        presencePenalty = try container.decodeNumber(Double.self, forKey: .presencePenalty)
        n = try container.decodeInteger(forKey: .n)
        stream = try container.decodeIfPresent(Bool.self, forKey: .stream)
        streamOptions = try container.decodeIfPresent(StreamOptions.self, forKey: .streamOptions)
        reanchor = try container.decodeIfPresent(ReanchorExtension.self, forKey: .reanchor)
    }
}

extension KeyedDecodingContainer {
    /// An optional integer field. A number that is not an integer (2.5, 1e30) is a type error naming the field
    /// (Foundation's decoder reports it as invalid JSON, without the field's path).
    func decodeInteger(forKey key: Key) throws -> Int? { try decodeNumber(Int.self, forKey: key) }

    /// An optional number field; a number Swift cannot represent (1e999) is a type error naming the field.
    func decodeNumber<Number: Decodable>(_ type: Number.Type, forKey key: Key) throws -> Number? {
        do {
            return try decodeIfPresent(Number.self, forKey: key)
        } catch let error as DecodingError {
            throw error
        } catch {
            throw DecodingError.typeMismatch(Number.self, .init(codingPath: codingPath + [key], debugDescription: "\(error)"))
        }
    }
}

/// `stream_options`.
struct StreamOptions: Decodable, Sendable {
    /// Send a last chunk with `usage` (and `"usage": null` in the others).
    var includeUsage: Bool?

    enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
}

/// The documented `reanchor` extension object: sampling controls OpenAI lacks, what a chat does when its
/// conversation outgrows the context, and how the prompt reuses the document library.
struct ReanchorExtension: Decodable, Sendable {
    /// Keep the k most likely tokens; 0 disables.
    var topK: Int?
    /// transformers' repetition penalty (> 0; 1 disables).
    var repetitionPenalty: Double?
    /// `reanchor` (default): drop the oldest turns after the system prompt and re-anchor the rest; `error`: 400.
    var overflow: String?
    /// Ids of documents (`/v1/documents`) whose chunks are placed after the system prompt, in this order.
    var documents: [String]?
    /// How the prompt reuses the library (over the server's `--reuse` defaults).
    var reuse: ReuseField?
    /// Generate `max_tokens` tokens even past EOS (benchmarks; llama-server's and vLLM's `ignore_eos`).
    var ignoreEOS: Bool?

    enum CodingKeys: String, CodingKey {
        case topK = "top_k", repetitionPenalty = "repetition_penalty", overflow, documents, reuse, ignoreEOS = "ignore_eos"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        topK = try container.decodeInteger(forKey: .topK)
        repetitionPenalty = try container.decodeNumber(Double.self, forKey: .repetitionPenalty)
        overflow = try container.decodeIfPresent(String.self, forKey: .overflow)
        documents = try container.decodeIfPresent([String].self, forKey: .documents)
        reuse = try container.decodeIfPresent(ReuseField.self, forKey: .reuse)
        ignoreEOS = try container.decodeIfPresent(Bool.self, forKey: .ignoreEOS)
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
