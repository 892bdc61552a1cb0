import Foundation
import NIOCore
import RESP

/// Document records in the shared Redis, one JSON value per document under `reanchor:doc2:<id>`, so every
/// replica sees the same documents and a delete on one replica is a miss on all. A value that is not a
/// valid record (corrupt, forged, oversized, stored under another id) is treated as absent and deleted.
/// Unlike the KV tiers, a fault here is thrown (`RESPError`): document metadata has no local fallback.
public actor RedisDocumentStore: DocumentStore {
    public nonisolated let client: RedisClient
    /// Bytes of one stored record at most, checked before decoding (as `DiskDocumentStore.maximumRecordBytes`).
    public static let maximumRecordBytes = 64 << 20
    /// `doc2`: the record with tenant owner, chunk keys and tokens, context and client metadata.
    public static let keyPrefix = "reanchor:doc2:"
    /// Records read per `MGET` when listing.
    static let batch = 256
    /// Values found invalid and deleted.
    public private(set) var corrupt = 0

    public init(client: RedisClient) { self.client = client }

    public func put(_ record: DocumentRecord) async throws {
        if let violation = record.violation() { throw DocumentsError.invalidEntry(reason: violation) }
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        try await client.set(Self.keyPrefix + record.id, ByteBuffer(bytes: try encoder.encode(record)))
    }

    public func record(id: String) async throws -> DocumentRecord? {
        guard DocumentRecord.isWellFormedID(id) else { return nil }
        return await decode(try await client.get(Self.keyPrefix + id), key: Self.keyPrefix + id)
    }

    /// Removes the record; nil when there was none or another replica removed it first.
    public func remove(id: String) async throws -> DocumentRecord? {
        guard let record = try await record(id: id) else { return nil }
        return try await client.delete([Self.keyPrefix + id]) > 0 ? record : nil
    }

    public func all() async throws -> [DocumentRecord] {
        let keys = try await client.keys(matching: Self.keyPrefix + "*")
        var found: [DocumentRecord] = []
        for start in stride(from: 0, to: keys.count, by: Self.batch) {
            let names = Array(keys[start..<min(start + Self.batch, keys.count)])
            for (key, value) in zip(names, try await client.get(names)) {
                if let record = await decode(value, key: key) { found.append(record) }
            }
        }
        return found
    }

    public func page(visibleTo tenant: String, after: String?, limit: Int) async throws -> (records: [DocumentRecord], hasMore: Bool) {
        DocumentPaging.page(try await all(), visibleTo: tenant, after: after, limit: limit)
    }

    /// The record in `value`, or nil (deleting `key`) when it is not a valid record stored under its own id.
    private func decode(_ value: ByteBuffer?, key: String) async -> DocumentRecord? {
        guard let value else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        if value.readableBytes <= Self.maximumRecordBytes,
           let record = try? decoder.decode(DocumentRecord.self, from: Data(value.readableBytesView)),
           record.violation() == nil, Self.keyPrefix + record.id == key {
            return record
        }
        corrupt += 1
        _ = try? await client.delete([key])
        return nil
    }
}
