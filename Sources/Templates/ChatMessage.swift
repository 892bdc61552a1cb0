/// One message of a conversation, as the OpenAI chat API and Hugging Face chat templates see it.
public struct ChatMessage: Sendable, Equatable, Codable {
    /// `system`, `user`, `assistant` (templates decide which roles they accept).
    public var role: String
    /// The text; nil renders as none (templates test `message.content is none`).
    public var content: String?

    public init(role: String, content: String?) {
        self.role = role
        self.content = content
    }

    public static func system(_ content: String) -> ChatMessage { ChatMessage(role: "system", content: content) }
    public static func user(_ content: String) -> ChatMessage { ChatMessage(role: "user", content: content) }
    public static func assistant(_ content: String) -> ChatMessage { ChatMessage(role: "assistant", content: content) }

    var value: Value {
        var dict = Value.Dictionary()
        dict["role"] = .string(role)
        dict["content"] = content.map(Value.string) ?? Value.none
        return .dict(dict)
    }
}
