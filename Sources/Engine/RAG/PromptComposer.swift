import Cache
import Documents
import Foundation
import Models

/// What composing one prompt did.
public struct Composition {
    public var cache: KVCache
    /// Logits after the last query token.
    public var logits: Logits
    public var promptTokens: Int
    /// Prompt tokens whose K/V came from a cache (the library, or `prefix` mode's prompt cache) and were
    /// not recomputed: chunks computed in this request on a library miss do not count.
    public var reusedTokens: Int
    /// Chunk tokens served from the library (for `prefix`: chunk tokens inside the reused prefix).
    public var chunkTokensFromLibrary: Int
    public var seconds: Double
    /// Attention weights of the query rows per layer, `[queryRows, heads, cells]`, when captured.
    public var attention: [[Float]]
    /// Positions of the chunk tokens recomputed past the check layer by selective recompute (`blend`).
    public var recomputedPositions: [Int] = []
    /// Library look-ups (prefix and chunks) that hit, and that missed (the entry was computed and stored).
    public var libraryHits = 0
    public var libraryMisses = 0

    /// Chunk tokens recomputed by selective recompute (`blend`).
    public var recomputedTokens: Int { recomputedPositions.count }
}

/// Builds the KV cache of a RAG prompt in any `ReuseMode`, with chunks looked up in (and added to) the
/// document library. Chunks are encoded after the prompt's prefix, so a chunk's first token is not an
/// attention sink when reused in the middle of a prompt; the prefix KV itself is not stored with a chunk.
public final class PromptComposer {
    public let model: any CausalLanguageModel
    public let library: DocumentLibrary
    public let namespace: Namespace
    /// Whole prompts seen before, for `prefix` mode: tokens and their K/V, most recently used last,
    /// bounded by `prefixCacheBytes`.
    private var prefixCache: [(tokens: [Int], slice: CacheSlice)] = []
    /// Most bytes of K/V the `prefix` mode keeps (least recently used prompts go first).
    public let prefixCacheBytes: Int

    /// How the caches it builds store keys; every mode composes the same prompt (blend ranks through the
    /// cache's views).
    public let storage: KeyStorage

    public init(model: any CausalLanguageModel, library: DocumentLibrary, namespace: Namespace = .shared,
                storage: KeyStorage = .anchored, prefixCacheBytes: Int = 256 << 20) {
        self.model = model
        self.storage = storage
        self.library = library
        self.namespace = namespace
        self.prefixCacheBytes = max(prefixCacheBytes, 0)
    }

    /// Bytes the `prefix` mode's cache holds now.
    public var prefixCacheByteCount: Int { prefixCache.reduce(0) { $0 + $1.slice.byteCount } }

    /// Composes `prompt` in `mode` and returns the cache (holding the whole prompt) and the query's logits.
    /// - capacity: extra cells beyond the prompt (for the answer that follows).
    public func compose(_ prompt: RAGPrompt, mode: ReuseMode, blend: BlendParameters = .standard, extraCapacity: Int = 0,
                        captureAttention: Bool = false) async throws -> Composition {
        guard !prompt.query.isEmpty else { throw EngineError.emptyInput("query") }
        let tokens = prompt.tokens
        let context = model.config.usableWindow
        guard extraCapacity >= 0, tokens.count <= context, extraCapacity <= context - tokens.count else {
            throw EngineError.invalidParameter(name: "prompt", reason: "\(tokens.count) prompt tokens (chunks \(prompt.chunks.map(\.count))) "
                                               + "plus \(extraCapacity) to generate exceed the model's \(context)-token context")
        }
        // Naive placement stages each chunk in a spare sequence first, so it needs room for one more chunk.
        let staging = mode == .naive ? (prompt.chunks.map(\.count).max() ?? 0) : 0
        let cache = model.makeCache(capacity: tokens.count + extraCapacity + staging, storage: storage)
        var attention: [[Float]] = []
        let queryRows = prompt.query.count
        let heads = model.config.heads
        /// Keeps the query's rows of each layer's weights `[rows, heads, n]`, or nil when not capturing.
        let capture: ((Int, [Float]) -> Void)? = captureAttention ? { _, weights in
            let rows = weights.count / max(heads * cache.count(sequence: 0), 1)
            attention.append(Self.lastRows(weights, rows: queryRows, of: rows))
        } : nil
        let probe = LayerProbe(attention: capture)
        let started = Clock.now()
        switch mode {
        case .full:
            let logits = try model.forward(tokens: tokens, positions: Array(0..<tokens.count), sequence: 0, cache: cache,
                                           outputs: .last, probe: probe)
            return Composition(cache: cache, logits: logits, promptTokens: tokens.count, reusedTokens: 0, chunkTokensFromLibrary: 0,
                               seconds: Clock.now() - started, attention: attention)
        case .prefix:
            let shared = longestCachedPrefix(tokens)
            if let (length, slice) = shared {
                try cache.importSlice(try Self.prefixSlice(slice, length: length), sequence: 0, at: 0)
            }
            let reused = shared?.0 ?? 0
            let rest = Array(tokens[reused...])
            let logits = try model.forward(tokens: rest, positions: Array(reused..<tokens.count), sequence: 0, cache: cache,
                                           outputs: .last, probe: probe)
            remember(tokens, try cache.export(sequence: 0, range: 0..<tokens.count))
            let chunkReused = max(0, min(reused - prompt.prefix.count, prompt.chunkTokenCount))
            return Composition(cache: cache, logits: logits, promptTokens: tokens.count, reusedTokens: reused,
                               chunkTokensFromLibrary: chunkReused, seconds: Clock.now() - started,
                               attention: attention)
        case .naive, .anchored, .blend:
            // The prefix sits at position 0 after nothing, so its library entry is exact in every prompt.
            var prefixFromLibrary = 0
            var hits = 0, misses = 0
            if !prompt.prefix.isEmpty {
                let (slice, hit) = try await chunkSlice(prompt.prefix, context: [])
                try cache.importSlice(slice, sequence: 0, at: 0)
                if hit { prefixFromLibrary = prompt.prefix.count }
                if hit { hits += 1 } else { misses += 1 }
            }
            var offset = prompt.prefix.count
            var fromLibrary = 0
            var servedPositions = Set(0..<prefixFromLibrary)
            var chunkPositions: [Int] = []
            for chunk in prompt.chunks where !chunk.isEmpty {
                let (slice, hit) = try await chunkSlice(chunk, context: prompt.prefix)
                if hit {
                    fromLibrary += chunk.count
                    servedPositions.formUnion(offset..<(offset + chunk.count))
                }
                if hit { hits += 1 } else { misses += 1 }
                if mode == .naive {
                    // Keys stay rotated for the positions they were encoded at (right after the prefix).
                    try cache.importSlice(slice, sequence: 1, at: prompt.prefix.count)
                    try cache.relabelWithoutRotation(sequence: 1, range: prompt.prefix.count..<(prompt.prefix.count + chunk.count),
                                                     by: offset - prompt.prefix.count)
                    try cache.copy(from: 1, to: 0)
                    cache.remove(sequence: 1)
                } else {
                    chunkPositions += try cache.importSlice(slice, sequence: 0, at: offset)
                }
                offset += chunk.count
            }
            let queryPositions = Array(offset..<(offset + prompt.query.count))
            let logits: Logits
            var recomputed: [Int] = []
            if mode == .blend, !chunkPositions.isEmpty {
                (logits, recomputed) = try blendForward(prompt: prompt, cache: cache, chunkPositions: chunkPositions,
                                                         queryPositions: queryPositions, parameters: blend, attention: capture)
            } else {
                logits = try model.forward(tokens: prompt.query, positions: queryPositions, sequence: 0, cache: cache,
                                           outputs: .last, probe: probe)
            }
            return Composition(cache: cache, logits: logits, promptTokens: tokens.count,
                               reusedTokens: servedPositions.subtracting(recomputed).count, chunkTokensFromLibrary: fromLibrary,
                               seconds: Clock.now() - started, attention: attention, recomputedPositions: recomputed,
                               libraryHits: hits, libraryMisses: misses)
        }
    }

    /// The library entry for `chunk` after `context`, encoding and storing it on a miss.
    private func chunkSlice(_ chunk: [Int], context: [Int]) async throws -> (CacheSlice, hit: Bool) {
        if let entry = await library.lookup(tokens: chunk, context: context, namespace: namespace) {
            return (entry.slice, true)
        }
        let slice = try ChunkReuse(model: model).encode(chunk: chunk, after: context)
        // A failed disk write does not fail the request: the library records it (`takeEvents`) and its
        // memory tier still serves the entry. What throws here is a slice of the wrong shape: a bug.
        try await library.store(tokens: chunk, context: context, slice: slice, namespace: namespace)
        return (slice, false)
    }

    /// The longest cached prefix of `tokens` (leaving at least one token to compute), marked as recently used.
    private func longestCachedPrefix(_ tokens: [Int]) -> (Int, CacheSlice)? {
        var best: (index: Int, length: Int)? = nil
        for (index, entry) in prefixCache.enumerated() {
            var length = 0
            while length < min(entry.tokens.count, tokens.count - 1), entry.tokens[length] == tokens[length] { length += 1 }
            if length > (best?.length ?? 0) { best = (index, length) }
        }
        guard let best else { return nil }
        let entry = prefixCache.remove(at: best.index)
        prefixCache.append(entry)
        return (best.length, entry.slice)
    }

    /// Keeps a whole prompt's K/V for `prefix` mode, evicting the least recently used beyond the byte bound.
    private func remember(_ tokens: [Int], _ slice: CacheSlice) {
        prefixCache.removeAll { $0.tokens == tokens }
        guard slice.byteCount <= prefixCacheBytes else { return }
        prefixCache.append((tokens, slice))
        var total = prefixCacheByteCount
        while total > prefixCacheBytes, !prefixCache.isEmpty { total -= prefixCache.removeFirst().slice.byteCount }
    }

    /// The first `length` cells of a whole-prompt slice.
    static func prefixSlice(_ slice: CacheSlice, length: Int) throws -> CacheSlice {
        let geometry = slice.geometry.with(capacity: length)
        return CacheSlice(geometry: geometry, relativePositions: Array(slice.relativePositions.prefix(length)),
                          keys: slice.keys.map { Array($0.prefix(length * geometry.keyWidth)) },
                          values: slice.values.map { Array($0.prefix(length * geometry.valueWidth)) })
    }

    /// The last `rows` of a `[allRows, heads, cells]` attention capture.
    static func lastRows(_ weights: [Float], rows: Int, of allRows: Int) -> [Float] {
        let perRow = weights.count / max(allRows, 1)
        return Array(weights.suffix(rows * perRow))
    }
}
