import Cache
import Kernels

/// What the engine needs of a model: a causal LM over a position-independent KV cache.
///
/// One validated entry point, `forward`, serves prefill, decode, perplexity, chunk encoding and
/// selective recompute; a `LayerProbe` is the only way to look inside a pass.
public protocol CausalLanguageModel: AnyObject {
    var config: ModelConfig { get }
    /// The RoPE the model applies (and the cache re-anchors with).
    var rotary: RotaryEmbedding { get }

    /// Runs `tokens` at `positions` for `sequence`, writing their K/V into `cache`, and returns logits.
    ///
    /// Each token attends to the cells of its sequence whose position is at most its own (including the
    /// tokens of this call). A position the sequence already holds is overwritten. Throws before touching
    /// the cache when an input is invalid; when a probe throws or returns an invalid selection, every
    /// position of the call is removed from the sequence (its K/V were partly rewritten).
    /// - tokens, positions: `[T]`, positions distinct; returns the rows `outputs` asks for, each `[vocabularySize]`.
    /// - probe: observes attention weights and may stop rows at one layer (selective recompute).
    func forward(tokens: [Int], positions: [Int], sequence: Int, cache: KVCache, outputs: LogitRows,
                 probe: LayerProbe?) throws -> Logits

    /// Runs several sequences' rows as one pass (continuous batching): every projection and MLP is one
    /// matrix product over all the rows, and each row attends to its own sequence's cells as in
    /// `forward(tokens:...)`, whose results (to rounding) it gives. Sequences must be distinct; inputs are
    /// all validated, and room for every new cell found, before the cache changes.
    /// - selections: entry index -> selective recompute for that entry (`RowSelection`): at its layer the entry's
    ///   rows shrink to those it selects, while the other entries go on whole. If a selection throws or breaks
    ///   its rules, every position of the call is removed from its sequence and the error rethrown.
    /// - Returns: one `Logits` per entry, in order, with the rows its `outputs` asks for among the rows it kept
    ///   (token indices within the entry).
    func forward(batch: [SequenceRows], cache: KVCache, selections: [Int: RowSelection]) throws -> [Logits]
}

extension CausalLanguageModel {
    /// The cache shape this model writes, holding at most `capacity` tokens.
    public func cacheGeometry(capacity: Int) -> CacheGeometry {
        CacheGeometry(layers: config.layers, kvHeads: config.kvHeads, headDimension: config.headDimension,
                      keyDimension: config.keyDimension, valueDimension: config.valueDimension, capacity: max(capacity, 1))
    }

    /// A new empty cache for this model holding at most `capacity` tokens; memory grows with the tokens
    /// actually held. Keys stored per `storage` (default `.anchored`).
    public func makeCache(capacity: Int, storage: KeyStorage = .anchored) -> KVCache {
        KVCache(geometry: cacheGeometry(capacity: capacity), rotary: rotary, storage: storage)
    }

    /// The batched pass without selective recompute.
    public func forward(batch: [SequenceRows], cache: KVCache) throws -> [Logits] {
        try forward(batch: batch, cache: cache, selections: [:])
    }

    public func forward(tokens: [Int], positions: [Int], sequence: Int = 0, cache: KVCache,
                        outputs: LogitRows = .last) throws -> Logits {
        try forward(tokens: tokens, positions: positions, sequence: sequence, cache: cache, outputs: outputs, probe: nil)
    }
}
