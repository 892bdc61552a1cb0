/// Where document metadata lives (`DocumentRecord`s; the chunks' K/V live in the `DocumentLibrary`).
/// Small on purpose so other backends (a Redis one) plug in: memory (`MemoryDocumentStore`) and a
/// directory that survives restarts (`DiskDocumentStore`) implement it here.
public protocol DocumentStore: Actor {
    /// Inserts or replaces the record with `record.id`.
    /// - Throws: `DocumentsError.unwritable` when a persistent store cannot write it (the record is then not kept).
    func put(_ record: DocumentRecord) async throws
    func record(id: String) async -> DocumentRecord?
    /// Removes and returns the record, or nil when there was none.
    func remove(id: String) async throws -> DocumentRecord?
    /// Records `tenant` may read (its own and public ones), ordered by creation then id, starting after the
    /// record `after` (exclusive), at most `limit` of them; `hasMore` when more follow.
    func page(visibleTo tenant: String, after: String?, limit: Int) async -> (records: [DocumentRecord], hasMore: Bool)
    /// Every record, in no particular order (reference counting of chunks shared between documents).
    func all() async -> [DocumentRecord]
}

extension DocumentStore {
    /// Whether a record other than `excluding` stores chunk `key` in `namespace`.
    public func references(key: String, namespace: Namespace, excluding: String) async -> Bool {
        for record in await all() where record.id != excluding {
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
