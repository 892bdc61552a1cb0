import Cache
import Documents
import Engine

extension DocumentService {
    /// Composes `prompt`'s prefix and chunks from the library on the encoder's model: entries are looked up
    /// in the tenant's namespace and then the public one; misses are encoded and stored in the tenant's
    /// namespace (private: reuse never publishes anything), so the next request hits them in any order;
    /// `blend` recomputes the chunk tokens `blend` selects.
    /// - mode: `anchored` or `blend`.
    /// - Returns: the K/V of every prompt token but the last, which the scheduler computes for the first logits.
    func compose(_ prompt: RAGPrompt, mode: ReuseMode, blend: BlendParameters, tenant: Tenant) async throws -> ComposedPrefix {
        let started = Clock.now()
        let namespace = try tenant.namespace()
        let (library, context) = (self.library, self.context)
        let entries = await PromptComposer.fetch(prompt, library: library, namespace: namespace, chunkContext: context)
        let composed = try await encoder.run { model in
            let composer = PromptComposer(model: model, library: library, namespace: namespace, chunkContext: context)
            let (composition, encoded) = try composer.assemble(prompt, entries: entries, mode: mode, blend: blend)
            let slice = try composition.cache.export(sequence: 0, range: 0..<(prompt.tokens.count - 1))
            return (slice: slice, reused: composition.reusedTokens, recomputed: composition.recomputedTokens, encoded: encoded)
        }
        for entry in composed.encoded {
            try await library.store(tokens: entry.tokens, context: entry.context, slice: entry.slice, namespace: namespace)
        }
        return try ComposedPrefix(slice: composed.slice, reusedTokens: composed.reused, recomputedTokens: composed.recomputed,
                                  seconds: Clock.now() - started)
    }
}
