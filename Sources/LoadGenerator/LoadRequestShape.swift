import Foundation

/// What every request of a load run asks for, identical for any server: a distinct prompt per request (no
/// shared prefix, so no server reuses KV between them), a fixed length, greedy sampling, and EOS ignored so
/// that every server generates exactly `maxTokens` tokens.
public struct LoadRequestShape: Sendable, Equatable {
    public enum Endpoint: String, CaseIterable, Sendable, Codable {
        /// `/v1/completions` with the prompt as token ids: exactly `promptTokens` tokens on every server.
        case completions
        /// `/v1/chat/completions` with one user message of `promptTokens` words (the token count then depends
        /// on the tokenizer and the chat template; servers report it in `usage`).
        case chat
    }

    public var endpoint: Endpoint
    public var promptTokens: Int
    public var maxTokens: Int
    /// Prompt ids are drawn from [`firstPromptID`, `vocabularySize`).
    public var vocabularySize: Int
    /// Sends `ignore_eos` (llama-server, vLLM) and `reanchor.ignore_eos` (reanchor serve).
    public var ignoreEOS: Bool
    /// Asks for the chosen token's logprob (`logprobs: 0`; chat: `logprobs: true`), so that every token arrives
    /// as a chunk even when it has no text (a random-weight shape served with a smaller tokenizer).
    public var tokenLogprobs: Bool

    /// Ids below this are left out of prompts: vocabularies put special tokens (BOS, EOS, padding) there.
    public static let firstPromptID = 16

    public init(endpoint: Endpoint = .completions, promptTokens: Int, maxTokens: Int, vocabularySize: Int, ignoreEOS: Bool = true,
                tokenLogprobs: Bool = false) {
        self.endpoint = endpoint
        self.promptTokens = promptTokens
        self.maxTokens = maxTokens
        self.vocabularySize = vocabularySize
        self.ignoreEOS = ignoreEOS
        self.tokenLogprobs = tokenLogprobs
    }

    public var path: String { endpoint == .completions ? "/v1/completions" : "/v1/chat/completions" }

    /// The prompt of request number `request` (deterministic; distinct first token (104,729 is prime) for the first
    /// `vocabularySize - firstPromptID` requests). Needs `vocabularySize > firstPromptID`.
    public func promptIDs(request: Int) -> [Int] {
        let span = max(vocabularySize - Self.firstPromptID, 1)
        return (0..<promptTokens).map { index in
            Self.firstPromptID + Int((UInt64(index) &* 7919 &+ UInt64(request) &* 104_729 &+ 13) % UInt64(span))
        }
    }

    /// The JSON body of request number `request` for the server's model `model`.
    public func body(model: String, request: Int, maxTokens overriding: Int? = nil) -> Data {
        var object: [String: Any] = [
            "model": model,
            "max_tokens": overriding ?? maxTokens,
            "temperature": 0,
            "stream": true,
            "stream_options": ["include_usage": true],
        ]
        let ids = promptIDs(request: request)
        switch endpoint {
        case .completions:
            object["prompt"] = ids
            if tokenLogprobs { object["logprobs"] = 0 }
        case .chat:
            object["messages"] = [["role": "user", "content": ids.map { "w\($0)" }.joined(separator: " ")]]
            if tokenLogprobs { object["logprobs"] = true }
        }
        if ignoreEOS {
            object["ignore_eos"] = true
            object["reanchor"] = ["ignore_eos": true]
        }
        // Only numbers, strings, arrays and dictionaries above: serialization cannot fail.
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
    }
}
