/// Tokens matched verbatim in the input before any other stage (`added_tokens`), e.g. `<|begin_of_text|>`.
struct AddedTokens: Sendable {
    struct Token: Sendable {
        let id: Int
        let content: String
        let special: Bool
        /// Matched in normalised text (by its normalised content) rather than in the raw input.
        let normalized: Bool
    }

    let tokens: [Token]
    /// Tokens by their first character, each list longest first so the longest match wins: most positions
    /// are rejected by one lookup, and a match is tried only against tokens that start there.
    private let byFirstCharacter: [Character: [Token]]

    /// - tokens: what `split` matches (contents already normalised by the caller where needed).
    init(tokens: [Token]) {
        self.tokens = tokens
        let byLength = tokens.filter { !$0.content.isEmpty }.sorted { $0.content.count > $1.content.count }
        byFirstCharacter = Dictionary(grouping: byLength) { $0.content.first ?? " " }
    }

    /// Splits `text` into plain segments and added-token ids, in order.
    func split(_ text: String) -> [Segment] {
        guard !byFirstCharacter.isEmpty else { return [.text(text)] }
        var segments: [Segment] = []
        var plainStart = text.startIndex
        var cursor = text.startIndex
        while cursor < text.endIndex {
            if let candidates = byFirstCharacter[text[cursor]], let token = candidates.first(where: { text[cursor...].hasPrefix($0.content) }) {
                if plainStart < cursor { segments.append(.text(String(text[plainStart..<cursor]))) }
                segments.append(.token(token.id))
                // hasPrefix compares characters, so the match is `content.count` characters long; the limit
                // only guards against a canonical-equivalence corner case.
                cursor = text.index(cursor, offsetBy: token.content.count, limitedBy: text.endIndex) ?? text.endIndex
                plainStart = cursor
            } else {
                cursor = text.index(after: cursor)
            }
        }
        if plainStart < text.endIndex { segments.append(.text(String(text[plainStart...]))) }
        return segments
    }

    enum Segment: Equatable {
        case text(String)
        case token(Int)
    }
}
