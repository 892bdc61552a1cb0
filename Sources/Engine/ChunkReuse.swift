import Foundation
import Cache
import Models

/// Position-independent reuse of a prefilled chunk: encode a document once (after a shared prefix, so its
/// first token is not an attention sink), keep its canonical K/V, and place it at any offset of any later
/// prompt with one rotation. The query is always computed fresh.
public struct ChunkReuse {
    public let model: any CausalLanguageModel

    public init(model: any CausalLanguageModel) { self.model = model }

    /// Prefills `prefix + chunk` and returns the chunk's cells as a slice (canonical keys, values).
    public func encode(chunk: [Int], after prefix: [Int]) throws -> CacheSlice {
        guard !chunk.isEmpty else { throw EngineError.emptyInput("chunk") }
        let cache = model.makeCache(capacity: prefix.count + chunk.count)
        let all = prefix + chunk
        _ = try model.forward(tokens: all, positions: Array(0..<all.count), cache: cache, outputs: .none)
        return try cache.export(sequence: 0, range: prefix.count..<all.count)
    }

    /// Builds a cache for `prefix`, then `chunks` placed one after another (re-anchored to their offsets),
    /// then runs `query` fresh and returns its logits (last row) and the cache.
    /// - chunks: slices from `encode`, in prompt order.
    public func compose(prefix: [Int], chunks: [CacheSlice], query: [Int], capacity: Int) throws -> (Logits, KVCache) {
        guard !query.isEmpty else { throw EngineError.emptyInput("query") }
        let cache = model.makeCache(capacity: capacity)
        if !prefix.isEmpty {
            _ = try model.forward(tokens: prefix, positions: Array(0..<prefix.count), cache: cache, outputs: .none)
        }
        var offset = prefix.count
        for chunk in chunks {
            try cache.importSlice(chunk, sequence: 0, at: offset)
            offset += chunk.count
        }
        let logits = try model.forward(tokens: query, positions: Array(offset..<(offset + query.count)), cache: cache)
        return (logits, cache)
    }
}
