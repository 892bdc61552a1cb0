import Documents
import RESP
import Engine
import Foundation
import Models
import Tokenizers

/// The documents behind `/v1/documents`: metadata in a `DocumentStore`, chunks' K/V in the `DocumentLibrary`,
/// prefilled by a `ChunkEncoder`. Every call takes the authenticated tenant; the namespace a document's chunks
/// live in is derived from it (private) or is the shared one (public), never chosen by the client.
public final class DocumentService: Sendable {
    public let library: DocumentLibrary
    public let store: any DocumentStore
    public let configuration: DocumentsConfiguration
    let encoder: ChunkEncoder
    let tokenizer: BPETokenizer
    /// Tokens every chunk is encoded after (the tokenizer's BOS): part of each chunk's content address.
    let context: [Int]

    /// - languageModel: the served model; the service prefills with its own instance over the same weights.
    /// - directory: `--library DIR` (chunks in DIR, records in DIR/documents), or nil for memory only.
    /// How prompts reuse the library by default (`--reuse`), and transparent reuse's segmenter.
    let reuse: ReuseConfiguration
    let segmenter: PromptSegmenter

    /// - reuse: the default reuse of completions (`ReuseConfiguration.standard`: blend at 0.15).
    /// - remote: `--remote redis://...`: a shared tier behind memory and disk, and the document records kept in
    ///   the same Redis, so that every replica resolves, lists and deletes the same documents.
    public init(languageModel: LanguageModel, configuration: DocumentsConfiguration, directory: String?,
                memoryBudget: Int = 512 << 20, reuse: ReuseConfiguration = .standard, remote: RedisURL? = nil,
                remoteTimeToLive: Duration? = nil) throws {
        self.reuse = reuse
        segmenter = PromptSegmenter(tokenizer: languageModel.tokenizer)
        let geometry = try languageModel.model.libraryGeometry()
        library = try DocumentLibrary(fingerprint: languageModel.fingerprint, geometry: geometry, memoryBudget: memoryBudget, path: directory,
                                      remote: remote.map { RemoteTier(url: $0, geometry: geometry, timeToLive: remoteTimeToLive) })
        if let remote {
            store = RedisDocumentStore(client: RedisClient(url: remote))
        } else if let directory {
            store = try DiskDocumentStore(directory: URL(fileURLWithPath: directory, isDirectory: true).appendingPathComponent("documents"))
        } else {
            store = MemoryDocumentStore()
        }
        self.configuration = configuration
        encoder = ChunkEncoder(model: try LlamaModel(config: languageModel.model.config, weights: languageModel.model.weights))
        tokenizer = languageModel.tokenizer
        context = languageModel.tokenizer.encode("", addSpecialTokens: true)
    }

    /// What ingest did for each chunk: prefilled, or found in the library (a lookup, no prefill).
    struct IngestCount: Sendable {
        var prefilled = 0
        var known = 0
    }

    /// Creates the record and prefills its chunks: at once (status `ready`) when the document has at most
    /// `backgroundTokens` tokens, else in the background (returned `processing`).
    func ingest(chunks: [[Int]], visibility: DocumentVisibility, metadata: String?, tenant: Tenant) async throws
        -> (DocumentRecord, IngestCount?) {
        let namespace = visibility == .public ? Namespace.shared : try tenant.namespace()
        let described = chunks.map { tokens in
            DocumentChunk(key: ChunkKey(fingerprint: library.fingerprint, namespace: namespace, context: context, tokens: tokens).hex,
                          tokens: tokens)
        }
        var record = DocumentRecord(id: DocumentRecord.newID(), owner: tenant.name, visibility: visibility, status: .processing,
                                    context: context, chunks: described, metadata: metadata)
        if record.tokenCount > configuration.backgroundTokens {
            try await store.put(record)
            let pending = record
            Task.detached { await self.finishInBackground(pending, namespace: namespace) }
            return (record, nil)
        }
        let count = try await prefill(record, namespace: namespace)
        record.status = .ready
        try await store.put(record)
        return (record, count)
    }

    private func finishInBackground(_ record: DocumentRecord, namespace: Namespace) async {
        var record = record
        do {
            _ = try await prefill(record, namespace: namespace)
            record.status = .ready
        } catch {
            record.status = .failed
            record.failure = "\(error)"
        }
        // Deleted meanwhile: stays deleted (a store that cannot be read now leaves the record as it was).
        guard (try? await store.record(id: record.id)) != nil else { return }
        try? await store.put(record)
    }

    /// Puts every chunk in the document's namespace: already there costs a lookup; visible from it (public)
    /// costs a lookup and a copy of the K/V; otherwise it is prefilled.
    private func prefill(_ record: DocumentRecord, namespace: Namespace) async throws -> IngestCount {
        var count = IngestCount()
        for chunk in record.chunks {
            if await library.entry(tokens: chunk.tokens, context: context, exactly: namespace) != nil {
                count.known += 1
            } else if let entry = await library.lookup(tokens: chunk.tokens, context: context, namespace: namespace) {
                try await library.store(tokens: chunk.tokens, context: context, slice: entry.slice, namespace: namespace)
                count.known += 1
            } else {
                let slice = try await encoder.encode(chunk.tokens, after: context)
                try await library.store(tokens: chunk.tokens, context: context, slice: slice, namespace: namespace)
                count.prefilled += 1
            }
        }
        return count
    }

    /// The record if `tenant` may read it, else the one not-found error, whether it is another tenant's
    /// private document or none at all (one code path, one answer).
    func visibleRecord(id: String, tenant: Tenant) async throws -> DocumentRecord {
        guard let record = try await store.record(id: id), record.isVisible(to: tenant.name) else { throw APIError.documentNotFound(id) }
        return record
    }

    /// Deletes the document and, from every tier, each of its chunks no other document of its namespace uses.
    /// A private document only by its owner (others get not-found); a public one only with an admin key.
    func delete(id: String, tenant: Tenant) async throws -> DocumentRecord {
        let record = try await visibleRecord(id: id, tenant: tenant)
        if record.visibility == .public, !tenant.admin { throw APIError.publicDeleteNeedsAdmin(id) }
        let namespace = try record.namespace()
        guard try await store.remove(id: id) != nil else { throw APIError.documentNotFound(id) }
        for chunk in record.chunks where !(try await store.references(key: chunk.key, namespace: namespace, excluding: id)) {
            await library.remove(tokens: chunk.tokens, context: record.context, namespace: namespace)
        }
        return record
    }
}
