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
/// attention sink when reused in the middle of a prompt (or after a fixed `chunkContext`); the prefix KV
/// itself is not stored with a chunk.
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
    /// What chunks are encoded after (part of their library key): nil for each prompt's prefix (the
    /// command line's RAG), or fixed tokens (the server's BOS) so that a chunk hits whatever system prompt
    /// precedes it.
    public let chunkContext: [Int]?

    public init(model: any CausalLanguageModel, library: DocumentLibrary, namespace: Namespace = .shared,
                storage: KeyStorage = .anchored, prefixCacheBytes: Int = 256 << 20, chunkContext: [Int]? = nil) {
        self.model = model
        self.storage = storage
        self.chunkContext = chunkContext
        self.library = library
        self.namespace = namespace
        self.prefixCacheBytes = max(prefixCacheBytes, 0)
    }

    /// Bytes the `prefix` mode's cache holds now.
    public var prefixCacheByteCount: Int { prefixCache.reduce(0) { $0 + $1.slice.byteCount } }

    /// Composes `prompt` in `mode` and returns the cache (holding the whole prompt) and the query's logits.
    /// Chunk modes look the prefix and chunks up in the library, compose, then store what missed.
    /// - extraCapacity: extra cells beyond the prompt (for the answer that follows).
    public func compose(_ prompt: RAGPrompt, mode: ReuseMode, blend: BlendParameters = .standard, extraCapacity: Int = 0,
                        captureAttention: Bool = false) async throws -> Composition {
        switch mode {
        case .full, .prefix:
            return try recompose(prompt, mode: mode, extraCapacity: extraCapacity, captureAttention: captureAttention)
        case .naive, .anchored, .blend:
            let entries = await fetch(prompt)
            let (composition, encoded) = try assemble(prompt, entries: entries, mode: mode, blend: blend, extraCapacity: extraCapacity,
                                                      captureAttention: captureAttention)
            try await store(encoded)
            return composition
        }
    }

    /// `full` and `prefix`: the prompt computed, after the longest remembered prefix for `prefix`.
    private func recompose(_ prompt: RAGPrompt, mode: ReuseMode, extraCapacity: Int, captureAttention: Bool) throws -> Composition {
        let tokens = prompt.tokens
        let (cache, attention) = try makeCache(for: prompt, mode: mode, extraCapacity: extraCapacity, captureAttention: captureAttention)
        let started = Clock.now()
        var reused = 0
        if mode == .prefix, let (length, slice) = longestCachedPrefix(tokens) {
            try cache.importSlice(try Self.prefixSlice(slice, length: length), sequence: 0, at: 0)
            reused = length
        }
        let logits = try model.forward(tokens: Array(tokens[reused...]), positions: Array(reused..<tokens.count), sequence: 0,
                                       cache: cache, outputs: .last, probe: LayerProbe(attention: attention.capture))
        if mode == .prefix { remember(tokens, try cache.export(sequence: 0, range: 0..<tokens.count)) }
        let chunkReused = max(0, min(reused - prompt.prefix.count, prompt.chunkTokenCount))
        return Composition(cache: cache, logits: logits, promptTokens: tokens.count, reusedTokens: reused,
                           chunkTokensFromLibrary: chunkReused, seconds: Clock.now() - started, attention: attention.weights)
    }

    /// Looks the prompt's prefix (after nothing) and chunks (after `chunkContext`, or the prefix) up in the
    /// library, in `namespace` (default: the composer's) and the namespaces it may read.
    public func fetch(_ prompt: RAGPrompt, namespace: Namespace? = nil) async -> FetchedEntries {
        await Self.fetch(prompt, library: library, namespace: namespace ?? self.namespace, chunkContext: chunkContext)
    }

    /// `fetch` without a composer (no model is touched): for callers that compose on another thread.
    public static func fetch(_ prompt: RAGPrompt, library: DocumentLibrary, namespace: Namespace,
                             chunkContext: [Int]?) async -> FetchedEntries {
        var entries = FetchedEntries(prefix: nil, chunks: [])
        if !prompt.prefix.isEmpty {
            entries.prefix = await library.lookup(tokens: prompt.prefix, context: [], namespace: namespace)?.slice
        }
        let context = chunkContext ?? prompt.prefix
        for chunk in prompt.chunks {
            entries.chunks.append(chunk.isEmpty ? nil : await library.lookup(tokens: chunk, context: context, namespace: namespace)?.slice)
        }
        return entries
    }

    /// Builds the cache of `prompt` in a chunk mode (`naive`, `anchored`, `blend`) from fetched entries: each
    /// chunk placed (re-anchored, except in `naive`) at its offset, missed ones encoded first; then the query
    /// (with selective recompute in `blend`). Synchronous: only the model works here.
    /// - Returns: the composition and the entries encoded on a miss (for `store`).
    public func assemble(_ prompt: RAGPrompt, entries: FetchedEntries, mode: ReuseMode, blend: BlendParameters = .standard,
                         extraCapacity: Int = 0, captureAttention: Bool = false) throws -> (Composition, [EncodedEntry]) {
        guard mode == .naive || mode == .anchored || mode == .blend else {
            throw EngineError.invalidParameter(name: "mode", reason: "assemble composes chunk modes (naive, anchored, blend), found \(mode)")
        }
        guard entries.chunks.count == prompt.chunks.count else {
            throw EngineError.invalidParameter(name: "entries", reason: "\(entries.chunks.count) fetched for \(prompt.chunks.count) chunks")
        }
        let (cache, attention) = try makeCache(for: prompt, mode: mode, extraCapacity: extraCapacity, captureAttention: captureAttention)
        let started = Clock.now()
        var encoder = MissEncoder(model: model)
        // The prefix sits at position 0 after nothing, so its library entry is exact in every prompt.
        var prefixFromLibrary = 0
        var hits = 0, misses = 0
        if !prompt.prefix.isEmpty {
            let (prefix, hit) = try encoder.slice(entries.prefix, prompt.prefix, context: [])
            try cache.importSlice(prefix, sequence: 0, at: 0)
            if hit { prefixFromLibrary = prompt.prefix.count; hits += 1 } else { misses += 1 }
        }
        let context = chunkContext ?? prompt.prefix
        var offset = prompt.prefix.count
        var fromLibrary = 0
        var servedPositions = Set(0..<prefixFromLibrary)
        var chunkPositions: [Int] = []
        for (chunk, found) in zip(prompt.chunks, entries.chunks) where !chunk.isEmpty {
            let (chunkSlice, hit) = try encoder.slice(found, chunk, context: context)
            if hit {
                fromLibrary += chunk.count
                servedPositions.formUnion(offset..<(offset + chunk.count))
                hits += 1
            } else {
                misses += 1
            }
            if mode == .naive {
                // Keys stay rotated for the positions they were encoded at (right after the context).
                try cache.importSlice(chunkSlice, sequence: 1, at: context.count)
                try cache.relabelWithoutRotation(sequence: 1, range: context.count..<(context.count + chunk.count),
                                                 by: offset - context.count)
                try cache.copy(from: 1, to: 0)
                cache.remove(sequence: 1)
            } else {
                chunkPositions += try cache.importSlice(chunkSlice, sequence: 0, at: offset)
            }
            offset += chunk.count
        }
        let queryPositions = Array(offset..<(offset + prompt.query.count))
        let logits: Logits
        var recomputed: [Int] = []
        if mode == .blend, !chunkPositions.isEmpty {
            (logits, recomputed) = try blendForward(prompt: prompt, cache: cache, chunkPositions: chunkPositions,
                                                     queryPositions: queryPositions, parameters: blend, attention: attention.capture)
        } else {
            logits = try model.forward(tokens: prompt.query, positions: queryPositions, sequence: 0, cache: cache,
                                       outputs: .last, probe: LayerProbe(attention: attention.capture))
        }
        let composition = Composition(cache: cache, logits: logits, promptTokens: prompt.tokens.count,
                                      reusedTokens: servedPositions.subtracting(recomputed).count, chunkTokensFromLibrary: fromLibrary,
                                      seconds: Clock.now() - started, attention: attention.weights, recomputedPositions: recomputed,
                                      libraryHits: hits, libraryMisses: misses)
        return (composition, encoder.encoded)
    }

    /// Stores entries encoded on a miss in `namespace` (default: the composer's), so the next prompt hits them.
    /// A failed disk write does not throw: the library records it (`takeEvents`) and its memory tier still
    /// serves the entry. What throws is a slice of the wrong shape: a bug.
    public func store(_ encoded: [EncodedEntry], namespace: Namespace? = nil) async throws {
        for entry in encoded {
            try await library.store(tokens: entry.tokens, context: entry.context, slice: entry.slice, namespace: namespace ?? self.namespace)
        }
    }

    /// A cache for the prompt plus `extraCapacity` (and a staging chunk for `naive`), checked against the
    /// context, with the attention capture when asked for.
    private func makeCache(for prompt: RAGPrompt, mode: ReuseMode, extraCapacity: Int,
                           captureAttention: Bool) throws -> (KVCache, AttentionCapture) {
        guard !prompt.query.isEmpty else { throw EngineError.emptyInput("query") }
        let tokens = prompt.tokens.count
        let context = model.config.usableWindow
        guard extraCapacity >= 0, tokens <= context, extraCapacity <= context - tokens else {
            throw EngineError.invalidParameter(name: "prompt", reason: "\(tokens) prompt tokens (chunks \(prompt.chunks.map(\.count))) "
                                               + "plus \(extraCapacity) to generate exceed the model's \(context)-token context")
        }
        // Naive placement stages each chunk in a spare sequence first, so it needs room for one more chunk.
        let staging = mode == .naive ? (prompt.chunks.map(\.count).max() ?? 0) : 0
        let cache = model.makeCache(capacity: tokens + extraCapacity + staging, storage: storage)
        return (cache, AttentionCapture(enabled: captureAttention, queryRows: prompt.query.count, heads: model.config.heads, cache: cache))
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
