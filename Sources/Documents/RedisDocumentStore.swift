import Foundation
import NIOCore
import RESP

/// Document records in the shared Redis, one JSON value per document under `reanchor:doc1:<id>`, so every
/// replica sees the same documents and a delete on one replica is a miss on all. A value that is not a
/// valid record (corrupt, forged, oversized) is treated as absent and deleted.
/// Unlike the KV tiers, a fault here is thrown (`RESPError`): document metadata has no local fallback.
public actor RedisDocumentStore: DocumentStore {
    public nonisolated let client: RedisClient
    /// Bytes of one stored record at most (a document of a million chunks is 66 MB of keys: generous).
    public static let maximumRecordBytes = 64 << 20
    public static let keyPrefix = "reanchor:doc1:"
    /// Values found invalid and deleted.
    public private(set) var corrupt = 0

    public init(client: RedisClient) { self.client = client }

    public func put(_ record: DocumentRecord) async throws {
        if let existing = try await stored(record.id), existing.owner != record.owner { throw DocumentsError.notOwner(id: record.id) }
        let data = try JSONEncoder().encode(record)
        try await client.set(Self.keyPrefix + record.id, ByteBuffer(bytes: data))
    }

    public func record(id: String, for namespace: Namespace) async throws -> DocumentRecord? {
        try DocumentRecord.validate(id: id)
        return try await stored(id).flatMap { $0.isVisible(to: namespace) ? $0 : nil }
    }

    public func records(for namespace: Namespace) async throws -> [DocumentRecord] {
        let keys = try await client.keys(matching: Self.keyPrefix + "*")
        var found: [DocumentRecord] = []
        for batch in stride(from: 0, to: keys.count, by: 256) {
            let names = Array(keys[batch..<min(batch + 256, keys.count)])
            for (key, value) in zip(names, try await client.get(names)) {
                if let record = await decode(value, key: key), record.isVisible(to: namespace) { found.append(record) }
            }
        }
        return found.sorted { $0.id < $1.id }
    }

    public func delete(id: String, for namespace: Namespace) async throws -> Bool {
        try DocumentRecord.validate(id: id)
        guard let record = try await stored(id), record.isOwned(by: namespace) else { return false }
        return try await client.delete([Self.keyPrefix + id]) > 0
    }

    private func stored(_ id: String) async throws -> DocumentRecord? {
        await decode(try await client.get(Self.keyPrefix + id), key: Self.keyPrefix + id)
    }

    /// The record in `value`, or nil (deleting `key`) when it is not a valid record stored under its own id.
    private func decode(_ value: ByteBuffer?, key: String) async -> DocumentRecord? {
        guard let value else { return nil }
        if value.readableBytes <= Self.maximumRecordBytes,
           let record = try? JSONDecoder().decode(DocumentRecord.self, from: Data(value.readableBytesView)),
           record.violation() == nil, Self.keyPrefix + record.id == key {
            return record
        }
        corrupt += 1
        _ = try? await client.delete([key])
        return nil
    }
}
