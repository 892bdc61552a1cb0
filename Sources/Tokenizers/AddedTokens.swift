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
    /// Tokens by their first scalar, each list longest first so the longest match wins: most positions are
    /// rejected by one lookup, and a match is tried only against tokens that start there.
    private let byFirstScalar: [Unicode.Scalar: [Token]]

    /// - tokens: what `split` matches (contents already normalised by the caller where needed).
    init(tokens: [Token]) {
        self.tokens = tokens
        let byLength = tokens.filter { !$0.content.isEmpty }.sorted { $0.content.unicodeScalars.count > $1.content.unicodeScalars.count }
        byFirstScalar = Dictionary(grouping: byLength) { $0.content.unicodeScalars.first ?? " " }
    }

    /// Splits `text` into plain segments and added-token ids, in order, leftmost-longest first.
    ///
    /// Matching is by Unicode scalars, as tokenizers matches bytes: not by Characters, which would compare
    /// canonically equivalent spellings as equal and could not match inside a grapheme cluster.
    func split(_ text: String) -> [Segment] {
        guard !byFirstScalar.isEmpty else { return [.text(text)] }
        let scalars = text.unicodeScalars
        var segments: [Segment] = []
        var plainStart = scalars.startIndex
        var cursor = scalars.startIndex
        while cursor < scalars.endIndex {
            if let candidates = byFirstScalar[scalars[cursor]],
               let token = candidates.first(where: { scalars[cursor...].starts(with: $0.content.unicodeScalars) }) {
                if plainStart < cursor { segments.append(.text(String(scalars[plainStart..<cursor]))) }
                segments.append(.token(token.id))
                // The match is exactly the token's scalars, so this stays inside the text.
                cursor = scalars.index(cursor, offsetBy: token.content.unicodeScalars.count, limitedBy: scalars.endIndex) ?? scalars.endIndex
                plainStart = cursor
            } else {
                cursor = scalars.index(after: cursor)
            }
        }
        if plainStart < scalars.endIndex { segments.append(.text(String(scalars[plainStart...]))) }
        return segments
    }

    enum Segment: Equatable {
        case text(String)
        case token(Int)
    }
}
