/// Where document metadata lives (`DocumentRecord`s; the chunks' K/V live in the `DocumentLibrary`).
/// Small on purpose so backends plug in: memory for one replica (`MemoryDocumentStore`), a directory that
/// survives restarts (`DiskDocumentStore`) and the shared Redis every replica behind a load balancer reads
/// (`RedisDocumentStore`). Reads throw because a remote store can fail; the local ones never do.
public protocol DocumentStore: Actor {
    /// Inserts or replaces the record with `record.id`.
    /// - Throws: `DocumentsError.unwritable` when a persistent store cannot write it (the record is then not kept),
    ///   a remote store's error when it cannot be reached.
    func put(_ record: DocumentRecord) async throws
    func record(id: String) async throws -> DocumentRecord?
    /// Removes and returns the record, or nil when there was none.
    func remove(id: String) async throws -> DocumentRecord?
    /// Records `tenant` may read (its own and public ones), ordered by creation then id, starting after the
    /// record `after` (exclusive), at most `limit` of them; `hasMore` when more follow.
    func page(visibleTo tenant: String, after: String?, limit: Int) async throws -> (records: [DocumentRecord], hasMore: Bool)
    /// Every record, in no particular order (reference counting of chunks shared between documents).
    func all() async throws -> [DocumentRecord]
}

extension DocumentStore {
    /// Whether a record other than `excluding` stores chunk `key` in `namespace`.
    public func references(key: String, namespace: Namespace, excluding: String) async throws -> Bool {
        for record in try await all() where record.id != excluding {
            guard (try? record.namespace()) == namespace else { continue }
            if record.chunks.contains(where: { $0.key == key }) { return true }
        }
        return false
    }
}

/// The paging rule shared by the implementations.
enum DocumentPaging {
    static func page(_ records: some Sequence<DocumentRecord>, visibleTo tenant: String, after: String?,
                     limit: Int) -> (records: [DocumentRecord], hasMore: Bool) {
        let visible = records.filter { $0.isVisible(to: tenant) }.sorted { ($0.created, $0.id) < ($1.created, $1.id) }
        var start = 0
        if let after, let index = visible.firstIndex(where: { $0.id == after }) { start = index + 1 }
        let end = min(visible.count, start + max(limit, 0))
        return (Array(visible[start..<end]), end < visible.count)
    }
}
