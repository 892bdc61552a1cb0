/// The token ↔ id tables of a tokenizer.json: `model.vocab` plus `added_tokens`, validated before any
/// table indexed by id is allocated.
///
/// Ids are what the model's embedding rows are indexed by, so the file must agree with itself:
/// - every id is an exact non-negative integer below the number of entries (`model.vocab` entries plus
///   `added_tokens`): the id space is dense, so a file of N tokens never makes us allocate more than N slots
///   (an id of 10^12 would otherwise allocate 16 TB);
/// - no two tokens share an id;
/// - an added token that is also in `model.vocab` has the vocab's id.
/// At most `maximumCount` entries: ids then fit the 32-bit halves of `BPEModel`'s merge keys.
struct Vocabulary: Sendable {
    /// Entries (vocab plus added tokens) a tokenizer may have: 16 M, 60 times Gemma's 262 k.
    static let maximumCount = 1 << 24


    /// Token string → id, for `model.vocab` and the added tokens.
    let ids: TokenIDs
    /// `[max id + 1]` token string by id ("" for an id no token has).
    let tokens: [String]
    /// The added tokens, in file order.
    let added: [AddedTokens.Token]

    /// - vocabulary: the `model.vocab` entries with their keys exactly as written; addedTokens: the
    ///   `added_tokens` entries.
    init(vocabulary: [(token: String, value: RawVocabulary.Value)], addedTokens: [JSONObject]) throws {
        let count = vocabulary.count + addedTokens.count
        guard count <= Self.maximumCount else {
            throw TokenizerError.invalid("model.vocab", "\(vocabulary.count) tokens and \(addedTokens.count) added tokens are more than the \(Self.maximumCount) supported")
        }
        // `limit` slots: bounded by the number of entries the file holds, so the allocation is too.
        let limit = count
        var tokens = [String?](repeating: nil, count: limit)
        var ids = TokenIDs(capacity: count)
        let idRule = "ids must be below \(limit) for \(vocabulary.count) tokens in model.vocab and \(addedTokens.count) added tokens"
        for (token, value) in vocabulary {
            guard case .integer(let id) = value else {
                throw TokenizerError.invalid("model.vocab", "\(value) for \(Self.quoted(token)) is not an integer token id")
            }
            if let other = ids[token] {
                throw TokenizerError.invalid("model.vocab", "\(Self.quoted(token)) appears twice (ids \(other) and \(id))")
            }
            guard id >= 0, id < limit else {
                throw TokenizerError.invalid("model.vocab", "id \(id) for \(Self.quoted(token)) is outside [0, \(limit)): \(idRule)")
            }
            if let other = tokens[id] {
                let (first, second) = other < token ? (other, token) : (token, other)
                throw TokenizerError.invalid("model.vocab", "\(Self.quoted(first)) and \(Self.quoted(second)) have the same id \(id)")
            }
            tokens[id] = token
            ids[token] = id
        }
        var added: [AddedTokens.Token] = []
        for entry in addedTokens {
            guard let id = entry.int("id"), let content = entry.string("content") else {
                throw TokenizerError.invalid(entry.path, "needs an integer id and a string content")
            }
            guard id >= 0, id < limit else {
                throw TokenizerError.invalid(entry.field("id"), "id \(id) for \(Self.quoted(content)) is outside [0, \(limit)): \(idRule)")
            }
            if let existing = ids[content] {
                guard existing == id else {
                    throw TokenizerError.invalid(entry.field("id"), "id \(id) for \(Self.quoted(content)), which already has id \(existing)")
                }
            } else if let other = tokens[id] {
                throw TokenizerError.invalid(entry.field("id"), "\(Self.quoted(content)) and \(Self.quoted(other)) have the same id \(id)")
            } else {
                tokens[id] = content
                ids[content] = id
            }
            added.append(.init(id: id, content: content, special: entry.bool("special") ?? false,
                               normalized: entry.bool("normalized") ?? false))
        }
        let size = (tokens.lastIndex { $0 != nil } ?? -1) + 1
        self.tokens = tokens[..<size].map { $0 ?? "" }
        self.ids = ids
        self.added = added
    }

    /// `token` in quotes, shortened so an error message stays readable.
    static func quoted(_ token: String) -> String {
        token.count > 40 ? "'\(token.prefix(40))…'" : "'\(token)'"
    }
}

/// A token string compared and hashed by its Unicode scalars. Swift's String compares by canonical
/// equivalence, under which U+03AF (ί with tonos) and U+1F77 (ί with oxia) are equal; as tokens they are
/// not (Llama 2 ids 30207 and 30873).
struct TokenKey: Hashable, Sendable {
    let text: String

    static func == (a: TokenKey, b: TokenKey) -> Bool { a.text.utf8.elementsEqual(b.text.utf8) }

    /// String's own hash: equal for canonically equivalent strings, so it agrees with the stricter `==`.
    func hash(into hasher: inout Hasher) { hasher.combine(text) }
}

/// Token string → id, with keys compared exactly (`TokenKey`).
struct TokenIDs: Sendable {
    private var storage: [TokenKey: Int]

    init(capacity: Int = 0) { storage = Dictionary(minimumCapacity: capacity) }

    subscript(token: String) -> Int? {
        get { storage[TokenKey(text: token)] }
        set { storage[TokenKey(text: token)] = newValue }
    }

    var count: Int { storage.count }
}
