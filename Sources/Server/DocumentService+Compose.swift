import Cache
import Documents
import Engine

extension DocumentService {
    /// Gathers the K/V of `prompt`'s prefix and chunks for the scheduler: entries are looked up in the tenant's
    /// namespace and then the public one; misses are encoded (on the encoder's model, each distinct one once)
    /// and stored in the tenant's namespace (private: reuse never publishes anything), so the next request hits
    /// them in any order. No forward pass runs here for a hit: the scheduler places the parts, and with `blend`
    /// recomputes the chunk tokens it selects inside its batched steps.
    /// - mode: `anchored` or `blend`.
    /// - Returns: nil when nothing precedes the query (a prompt that ends with a chunk computes that chunk as its query).
    func compose(_ prompt: RAGPrompt, mode: ReuseMode, blend: BlendParameters, tenant: Tenant) async throws -> ComposedPrefix? {
        let started = Clock.now()
        var prompt = prompt
        // The last prompt token is computed (it gives the first logits): a prompt without a query has its
        // last chunk computed instead.
        while prompt.query.isEmpty, let last = prompt.chunks.popLast() { prompt.query = last }
        guard !prompt.query.isEmpty, !(prompt.prefix.isEmpty && prompt.chunks.allSatisfy(\.isEmpty)) else { return nil }
        let namespace = try tenant.namespace()
        let entries = await PromptComposer.fetch(prompt, library: library, namespace: namespace, chunkContext: context)
        var encoded: [(tokens: [Int], context: [Int], slice: CacheSlice)] = []
        var parts: [ComposedPrefix.Part] = []
        var offset = 0
        func place(_ found: CacheSlice?, _ tokens: [Int], context: [Int], isChunk: Bool) async throws {
            let slice: CacheSlice
            if let found {
                slice = found
            } else if let earlier = encoded.first(where: { $0.tokens == tokens && $0.context == context }) {
                slice = earlier.slice
            } else {
                slice = try await encoder.encode(tokens, after: context)
                encoded.append((tokens, context, slice))
            }
            parts.append(ComposedPrefix.Part(slice: slice, offset: offset, fromLibrary: found != nil, isChunk: isChunk))
            offset += tokens.count
        }
        // The prefix sits at position 0 after nothing, so its library entry is exact in every prompt.
        if !prompt.prefix.isEmpty { try await place(entries.prefix, prompt.prefix, context: [], isChunk: false) }
        for (chunk, found) in zip(prompt.chunks, entries.chunks) where !chunk.isEmpty {
            try await place(found, chunk, context: context, isChunk: true)
        }
        for entry in encoded {
            try await library.store(tokens: entry.tokens, context: entry.context, slice: entry.slice, namespace: namespace)
        }
        return try ComposedPrefix(tokens: prompt.prefix + prompt.chunks.flatMap { $0 }, parts: parts, blend: mode == .blend ? blend : nil,
                                  seconds: Clock.now() - started)
    }
}
