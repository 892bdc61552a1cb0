import Cache
import Models

/// Library entries a prompt can reuse, looked up before composing (look-ups are async, composing is not).
public struct FetchedEntries: Sendable {
    /// The prefix's entry (encoded after nothing); nil when it missed or the prefix is empty.
    public var prefix: CacheSlice?
    /// One per chunk of the prompt, in order; nil when it missed.
    public var chunks: [CacheSlice?]

    public init(prefix: CacheSlice?, chunks: [CacheSlice?]) {
        self.prefix = prefix
        self.chunks = chunks
    }

    /// Entries found (the prefix counts as one).
    public var hitCount: Int { (prefix == nil ? 0 : 1) + chunks.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }
}

/// A chunk (or prefix) computed during composition because the library missed it: stored afterwards.
public struct EncodedEntry: Sendable {
    public var tokens: [Int]
    /// What it was encoded after (part of its key).
    public var context: [Int]
    public var slice: CacheSlice
}

/// Encodes the chunks a composition missed, each distinct one once (a prompt may repeat a passage).
struct MissEncoder {
    let model: any CausalLanguageModel
    private(set) var encoded: [EncodedEntry] = []

    init(model: any CausalLanguageModel) { self.model = model }

    /// `found`, or `tokens` encoded after `context` (or taken from an earlier miss of this prompt).
    mutating func slice(_ found: CacheSlice?, _ tokens: [Int], context: [Int]) throws -> (CacheSlice, hit: Bool) {
        if let found { return (found, true) }
        if let earlier = encoded.first(where: { $0.tokens == tokens && $0.context == context }) { return (earlier.slice, false) }
        let fresh = try ChunkReuse(model: model).encode(chunk: tokens, after: context)
        encoded.append(EncodedEntry(tokens: tokens, context: context, slice: fresh))
        return (fresh, false)
    }
}

/// Keeps the query's rows of each layer's attention weights, `[queryRows, heads, cells]` per layer, when enabled.
final class AttentionCapture {
    private(set) var weights: [[Float]] = []
    private let enabled: Bool
    private let queryRows: Int
    private let heads: Int
    private let cache: KVCache

    init(enabled: Bool, queryRows: Int, heads: Int, cache: KVCache) {
        self.enabled = enabled
        self.queryRows = queryRows
        self.heads = heads
        self.cache = cache
    }

    /// The probe's attention callback (layer, `[rows, heads, cells]`), or nil when not capturing.
    var capture: ((Int, [Float]) -> Void)? {
        guard enabled else { return nil }
        return { [self] _, layerWeights in
            let rows = layerWeights.count / max(heads * cache.count(sequence: 0), 1)
            weights.append(PromptComposer.lastRows(layerWeights, rows: queryRows, of: rows))
        }
    }
}
