import Foundation

/// What the load generator reads from one streamed event of `/v1/completions` or `/v1/chat/completions`
/// (OpenAI's chunk shape, which llama-server and vLLM share): the text it carries, the finish reason, the
/// usage when the server reports it, an error object, or the final `[DONE]`.
public struct CompletionChunk: Equatable, Sendable {
    /// `choices[0].text` (completions) or `choices[0].delta.content` (chat); nil when absent.
    public var text: String?
    /// The choice carries logprobs of at least one token (`logprobs.tokens` of completions, `logprobs.content`
    /// of chat): a token arrived even when its text is empty.
    public var hasTokenLogprobs = false
    public var finishReason: String?
    /// `usage.completion_tokens`, when the chunk carries usage.
    public var completionTokens: Int?
    /// `error.message` (or the error value as text) of an error sent inside the stream.
    public var error: String?
    public var isDone = false

    public init(text: String? = nil, hasTokenLogprobs: Bool = false, finishReason: String? = nil, completionTokens: Int? = nil,
                error: String? = nil, isDone: Bool = false) {
        self.text = text
        self.hasTokenLogprobs = hasTokenLogprobs
        self.finishReason = finishReason
        self.completionTokens = completionTokens
        self.error = error
        self.isDone = isDone
    }

    /// Parses one event's data. Throws `LoadError.badChunk` when it is neither `[DONE]` nor a JSON object.
    public init(data: String) throws {
        if data.trimmingCharacters(in: .whitespaces) == "[DONE]" {
            isDone = true
            return
        }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any] else {
            throw LoadError.badChunk(String(data.prefix(200)))
        }
        if let error = object["error"] {
            self.error = ((error as? [String: Any])?["message"] as? String) ?? String(describing: error)
        }
        if let usage = object["usage"] as? [String: Any], let tokens = usage["completion_tokens"] as? NSNumber {
            completionTokens = tokens.intValue
        }
        guard let choice = (object["choices"] as? [Any])?.first as? [String: Any] else { return }
        text = (choice["text"] as? String) ?? ((choice["delta"] as? [String: Any])?["content"] as? String)
        finishReason = choice["finish_reason"] as? String
        if let logprobs = choice["logprobs"] as? [String: Any] {
            let entries = (logprobs["tokens"] as? [Any]) ?? (logprobs["content"] as? [Any]) ?? []
            hasTokenLogprobs = !entries.isEmpty
        }
    }
}
