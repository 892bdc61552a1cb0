/// The body of `POST /v1/completions`.
struct CompletionRequest: Decodable, Sendable {
    var common: SamplingFields
    var prompt: PromptField
    /// Legacy logprobs: how many alternatives per token (0...5), nil for none.
    var logprobs: Int?
    var echo: Bool?
    var bestOf: Int?
    var suffix: String?

    enum CodingKeys: String, CodingKey {
        case prompt, logprobs, echo, suffix
        case bestOf = "best_of"
    }

    init(from decoder: any Decoder) throws {
        common = try SamplingFields(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        prompt = try container.decode(PromptField.self, forKey: .prompt)
        logprobs = try container.decodeInteger(forKey: .logprobs)
        echo = try container.decodeIfPresent(Bool.self, forKey: .echo)
        bestOf = try container.decodeInteger(forKey: .bestOf)
        suffix = try container.decodeIfPresent(String.self, forKey: .suffix)
    }

    /// Refuses what this server does not implement rather than ignoring it.
    func checkSupported() throws {
        if echo == true { throw APIError.invalid("echo", "'echo' is not supported.") }
        if let bestOf, bestOf != 1 { throw APIError.invalid("best_of", "'best_of' must be 1.") }
        if let suffix, !suffix.isEmpty { throw APIError.invalid("suffix", "'suffix' is not supported.") }
    }
}

/// `prompt`: a string, token ids, or a list holding exactly one of those (one prompt per request, as `n` is 1).
enum PromptField: Decodable, Sendable, DescribedType {
    static let expectation = "a string, an array of token ids, or an array holding one of those"
    case text(String)
    case tokens([Int])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self = .text(text)
        } else if let tokens = try? container.decode([Int].self) {
            self = .tokens(tokens)
        } else if let texts = try? container.decode([String].self) {
            guard texts.count == 1 else { throw Self.onePrompt(decoder, count: texts.count) }
            self = .text(texts[0])
        } else if let lists = try? container.decode([[Int]].self) {
            guard lists.count == 1 else { throw Self.onePrompt(decoder, count: lists.count) }
            self = .tokens(lists[0])
        } else {
            throw DecodingError.typeMismatch(PromptField.self, .init(codingPath: decoder.codingPath, debugDescription: Self.expectation))
        }
    }

    private static func onePrompt(_ decoder: any Decoder, count: Int) -> DecodingError {
        .dataCorrupted(.init(codingPath: decoder.codingPath,
                             debugDescription: "one prompt per request is supported, found \(count)"))
    }
}
