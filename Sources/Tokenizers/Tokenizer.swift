import Foundation

/// Text ↔ token ids.
public protocol Tokenizer: Sendable {
    /// Ids of `text`; with `addSpecialTokens`, the post-processor's tokens (BOS) are added.
    func encode(_ text: String, addSpecialTokens: Bool) -> [Int]
    /// Text of `ids`; special tokens are left out when `skipSpecialTokens`.
    func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String
    /// Bytes of one token, given and updating the decoding state of the tokens before it.
    func bytes(of id: Int, state: inout DecodeState, skipSpecialTokens: Bool) -> [UInt8]
    var vocabularySize: Int { get }
    /// Id of a token string, e.g. `"<|end_of_text|>"`.
    func id(of token: String) -> Int?
}

extension Tokenizer {
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = true) -> String {
        var bytes: [UInt8] = []
        var state = DecodeState()
        for id in ids { bytes += self.bytes(of: id, state: &state, skipSpecialTokens: skipSpecialTokens) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Where decoding stands: whether any token was decoded yet (SentencePiece decoders drop the space
/// that opens the text; added tokens after the first are joined with a space).
public struct DecodeState: Sendable {
    var outputAny = false
    public init() {}
}

/// A Hugging Face `tokenizer.json` BPE tokenizer: added tokens → normalizer → pre-tokenizer → BPE →
/// post-processor, and a decoder back. Covers byte-level BPE (GPT-2, Llama 3, Qwen2) and
/// SentencePiece-style BPE with byte fallback (Llama 2, Mistral, TinyLlama).
public final class BPETokenizer: Tokenizer, @unchecked Sendable {
    // @unchecked: all stored state is immutable after init except `cache`, which is guarded by `lock`.
    let model: BPEModel
    let normalizer: (any Normalizer)?
    let preTokenizer: (any PreTokenizer)?
    let decoder: TokenDecoder
    let postProcessor: PostProcessor
    let addedTokens: AddedTokens
    /// `[vocabularySize]` token strings by id.
    let tokensByID: [String]
    /// Added tokens by id, and the ids that decoding with `skipSpecialTokens` leaves out.
    let addedByID: [Int: AddedTokens.Token]
    let skippedIDs: Set<Int>
    /// Added tokens matched in normalised text, by their normalised content.
    let normalizedAddedTokens: AddedTokens
    /// Ids of recent pieces, keyed exactly: canonically equivalent pieces can be different tokens.
    private var cache: [TokenKey: [Int]] = [:]
    private let lock = NSLock()

    public var vocabularySize: Int { tokensByID.count }

    /// Loads `tokenizer.json`.
    public convenience init(contentsOf url: URL) throws {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw TokenizerError.fileNotFound(url.path) }
        try self.init(json: data)
    }

    /// Parses the contents of a tokenizer.json. Bad input throws a `TokenizerError` naming the field, before
    /// anything is sized from it: ids must be unique and below the number of tokens (`Vocabulary`), a Split
    /// pattern may not repeat a repetition (`RegexBudget`), normalizers and decoders may grow text at most
    /// `maximumTextGrowth` times.
    public init(json data: Data) throws {
        let bytes = [UInt8](data)
        guard let object = try JSONParser.parse(bytes, file: "tokenizer.json") as? [String: Any] else {
            throw TokenizerError.invalidJSON(file: "tokenizer.json", reason: "not a JSON object")
        }
        let root = JSONObject(object, path: "")
        guard let modelJSON = root.object("model") else { throw TokenizerError.missingField("model") }
        let modelType = modelJSON.string("type") ?? "BPE"
        guard modelType == "BPE" else { throw TokenizerError.unsupported(field: "model", type: modelType) }
        // The vocab's keys come from RawVocabulary, which keeps keys that differ only in Unicode normalisation apart.
        guard modelJSON.values["vocab"] is [String: Any], let rawVocabulary = RawVocabulary.entries(in: bytes) else {
            throw TokenizerError.missingField("model.vocab")
        }
        let table = try Vocabulary(vocabulary: rawVocabulary, addedTokens: root.objects("added_tokens"))
        var merges: [(String, String)] = []
        for (index, item) in ((modelJSON.values["merges"] as? [Any]) ?? []).enumerated() {
            if let pair = item as? [String], pair.count == 2 {
                merges.append((pair[0], pair[1]))
            } else if let line = item as? String, let space = line.unicodeScalars.firstIndex(of: " ") {
                // Split on the scalar: a space followed by a combining mark is one Character.
                let scalars = line.unicodeScalars
                merges.append((String(scalars[..<space]), String(scalars[scalars.index(after: space)...])))
            } else {
                throw TokenizerError.invalid("model.merges[\(index)]", "not a pair of tokens")
            }
        }
        let vocabulary = table.ids
        let added = table.added
        model = try BPEModel(vocabulary: vocabulary, merges: merges, unknownToken: modelJSON.string("unk_token"),
                             fuseUnknown: modelJSON.bool("fuse_unk") ?? false, byteFallback: modelJSON.bool("byte_fallback") ?? false,
                             ignoreMerges: modelJSON.bool("ignore_merges") ?? false)
        normalizer = try NormalizerFactory.make(root.object("normalizer"))
        preTokenizer = try PreTokenizerFactory.make(root.object("pre_tokenizer"))
        decoder = try TokenDecoder.make(root.object("decoder"))
        postProcessor = try PostProcessor.make(root.object("post_processor"), tokenCount: table.tokens.count) { vocabulary[$0] }
        let normalizerStage = normalizer
        addedTokens = AddedTokens(tokens: added.filter { !$0.normalized })
        normalizedAddedTokens = AddedTokens(tokens: added.filter(\.normalized).map {
            .init(id: $0.id, content: normalizerStage?.normalize($0.content) ?? $0.content, special: $0.special, normalized: true)
        })
        addedByID = Dictionary(added.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        tokensByID = table.tokens
        // tokenizers 0.23 leaves out special tokens matched in raw text; normalised ones stay in the text.
        skippedIDs = Set(added.filter { $0.special && !$0.normalized }.map(\.id))
    }

    public func id(of token: String) -> Int? { model.vocabulary[token] }

    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int] {
        encode(text, addSpecialTokens: addSpecialTokens, continuing: false)
    }

    /// - continuing: the text continues one encoded before (a segment of a longer prompt): a pre-tokenizer
    ///   that marks the start of the text (SentencePiece's `prepend_scheme: first`) does not mark it here.
    public func encode(_ text: String, addSpecialTokens: Bool, continuing: Bool) -> [Int] {
        var ids = addSpecialTokens ? postProcessor.prefix : []
        var atStart = !continuing
        for segment in addedTokens.split(text) {
            switch segment {
            case .token(let id):
                ids.append(id)
            case .text(let plain):
                let normalized = normalizer?.normalize(plain) ?? plain
                for part in normalizedAddedTokens.split(normalized) {
                    switch part {
                    case .token(let id):
                        ids.append(id)
                    case .text(let text):
                        let pieces = preTokenizer?.split(text, first: atStart) ?? [text]
                        for piece in pieces { ids += encodePiece(piece) }
                    }
                    atStart = false
                }
            }
            atStart = false
        }
        if addSpecialTokens { ids += postProcessor.suffix }
        return ids
    }

    private func encodePiece(_ piece: String) -> [Int] {
        // Pre-tokenized pieces repeat (words); a long unsplit text does not and is not cached.
        guard piece.utf8.count <= 64 else { return model.encode(piece) }
        lock.lock()
        let cached = cache[TokenKey(text: piece)]
        lock.unlock()
        if let cached { return cached }
        let ids = model.encode(piece)
        lock.lock()
        if cache.count > 50_000 { cache.removeAll(keepingCapacity: true) }
        cache[TokenKey(text: piece)] = ids
        lock.unlock()
        return ids
    }

    /// Ordinary tokens go through the decoder; added tokens are written as they are, after a space unless
    /// they open the text (as tokenizers 0.23 joins them).
    public func bytes(of id: Int, state: inout DecodeState, skipSpecialTokens: Bool = true) -> [UInt8] {
        guard id >= 0, id < tokensByID.count else { return [] }
        if let added = addedByID[id] {
            if skipSpecialTokens && skippedIDs.contains(id) { return [] }
            let bytes = (state.outputAny ? [UInt8(ascii: " ")] : []) + Array(added.content.utf8)
            state.outputAny = true
            return bytes
        }
        let token = tokensByID[id]
        guard !token.isEmpty else { return [] }  // an id no token has
        let bytes = decoder.bytes(of: token, atStart: !state.outputAny)
        state.outputAny = true
        return bytes
    }
}
