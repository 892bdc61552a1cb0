import Engine

/// The log probabilities of generated tokens, in OpenAI's two shapes: chat's
/// `{"content": [{"token", "logprob", "bytes", "top_logprobs": [...]}]}` and the legacy completions shape
/// `{"tokens", "token_logprobs", "top_logprobs": [{token: logprob}], "text_offset"}`.
struct LogprobEntries: Sendable {
    private struct Entry: Sendable {
        var chosen: TokenLogprob
        var top: [TokenLogprob]
        /// Characters (code points, as Python counts them) of the token texts before this one.
        var textOffset: Int
    }

    private var entries: [Entry] = []
    private var nextOffset = 0

    var isEmpty: Bool { entries.isEmpty }

    mutating func append(_ token: GeneratedToken) {
        guard let chosen = token.logprob else { return }
        entries.append(Entry(chosen: chosen, top: token.top, textOffset: nextOffset))
        nextOffset += chosen.text.unicodeScalars.count
    }

    /// Starts the next streamed chunk's entries; text offsets keep counting.
    mutating func removeAll() { entries.removeAll(keepingCapacity: true) }

    /// `choices[].logprobs` of a chat completion or chunk.
    var chat: JSONOutput {
        .object([
            ("content", .array(entries.map { entry in
                .object(Self.token(entry.chosen) + [("top_logprobs", .array(entry.top.map { .object(Self.token($0)) }))])
            })),
            ("refusal", .null),
        ])
    }

    /// `choices[].logprobs` of a (legacy) completion or chunk. A top-logprobs object holds each text once
    /// (the likelier entry), as a JSON object cannot repeat a key.
    var legacy: JSONOutput {
        .object([
            ("tokens", .array(entries.map { .string($0.chosen.text) })),
            ("token_logprobs", .array(entries.map { .double(Double($0.chosen.logprob)) })),
            ("top_logprobs", .array(entries.map { entry in
                var seen = Set<String>()
                return .object(entry.top.compactMap { alternative in
                    seen.insert(alternative.text).inserted ? (alternative.text, .double(Double(alternative.logprob))) : nil
                })
            })),
            ("text_offset", .array(entries.map { .int($0.textOffset) })),
        ])
    }

    private static func token(_ logprob: TokenLogprob) -> [(String, JSONOutput)] {
        [("token", .string(logprob.text)), ("logprob", .double(Double(logprob.logprob))),
         ("bytes", .array(logprob.bytes.map { .int(Int($0)) }))]
    }
}
