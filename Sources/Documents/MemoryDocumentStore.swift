/// Document metadata in memory only (a library without `--library DIR`).
public actor MemoryDocumentStore: DocumentStore {
    private var records: [String: DocumentRecord] = [:]

    public init() {}

    public func put(_ record: DocumentRecord) async throws { records[record.id] = record }
    public func record(id: String) async -> DocumentRecord? { records[id] }
    public func remove(id: String) async throws -> DocumentRecord? { records.removeValue(forKey: id) }
    public func all() async -> [DocumentRecord] { Array(records.values) }

    public func page(visibleTo tenant: String, after: String?, limit: Int) async -> (records: [DocumentRecord], hasMore: Bool) {
        DocumentPaging.page(records.values, visibleTo: tenant, after: after, limit: limit)
    }
}
