import Templates

/// The body of `POST /v1/chat/completions`.
struct ChatRequest: Decodable, Sendable {
    var common: SamplingFields
    var messages: [ChatRequestMessage]
    /// Return the chosen tokens' log probabilities.
    var logprobs: Bool?
    /// Alternatives per token (0...5), with `logprobs`.
    var topLogprobs: Int?

    enum CodingKeys: String, CodingKey {
        case messages, logprobs
        case topLogprobs = "top_logprobs"
    }

    init(from decoder: any Decoder) throws {
        common = try SamplingFields(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        messages = try container.decode([ChatRequestMessage].self, forKey: .messages)
        logprobs = try container.decodeIfPresent(Bool.self, forKey: .logprobs)
        topLogprobs = try container.decodeInteger(forKey: .topLogprobs)
    }

    /// The conversation for the template; `developer` is OpenAI's newer name for `system`.
    func conversation() throws -> [ChatMessage] {
        guard !messages.isEmpty else { throw APIError.invalid("messages", "'messages' must not be empty.") }
        return try messages.enumerated().map { index, message in
            let role = message.role == "developer" ? "system" : message.role
            guard ["system", "user", "assistant"].contains(role) else {
                throw APIError.invalid("messages[\(index)].role",
                                       "'messages[\(index)].role' must be system, developer, user or assistant, found '\(message.role)'.")
            }
            return ChatMessage(role: role, content: message.content?.text)
        }
    }
}

/// One message: `role` and `content` (a string, null, or a list of `{"type": "text", "text": ...}` parts).
struct ChatRequestMessage: Decodable, Sendable {
    var role: String
    var content: MessageContent?
}

/// Message content; text parts are joined with newlines, as vLLM does.
struct MessageContent: Decodable, Sendable, DescribedType {
    static let expectation = "a string or an array of text parts"
    var text: String

    private struct Part: Decodable {
        var type: String
        var text: String?
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self.text = text
            return
        }
        guard let parts = try? container.decode([Part].self) else {
            throw DecodingError.typeMismatch(MessageContent.self, .init(codingPath: decoder.codingPath, debugDescription: Self.expectation))
        }
        var texts: [String] = []
        for (index, part) in parts.enumerated() {
            guard part.type == "text", let text = part.text else {
                let path = ErrorMapping.path(decoder.codingPath) + "[\(index)]"
                throw APIError.invalid(path, "'\(path)' must be a text part ({\"type\": \"text\", \"text\": ...}); found type '\(part.type)'.")
            }
            texts.append(text)
        }
        text = texts.joined(separator: "\n")
    }
}
