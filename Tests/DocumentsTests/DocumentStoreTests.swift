import Documents
import Foundation
import NIOCore
import RESP
import Testing

/// The document metadata stores: the same rules in memory, on disk and in the shared Redis (where a second
/// replica's store sees the same documents); the disk one survives a reopen, the Redis one drops bad values.
@Suite struct DocumentStoreTests {
    static func record(_ owner: String, _ visibility: DocumentVisibility, created: Double, status: DocumentStatus = .ready) -> DocumentRecord {
        DocumentRecord(id: DocumentRecord.newID(), owner: owner, visibility: visibility, status: status, context: [0],
                       chunks: [DocumentChunk(key: key(owner), tokens: [5, 6, 7])], metadata: #"{"a":1}"#,
                       created: Date(timeIntervalSince1970: created))
    }

    /// A 64-hex content key named after `seed`.
    static func key(_ seed: String) -> String {
        String((seed.utf8.map { String(format: "%02x", $0) }.joined() + String(repeating: "0", count: 64)).prefix(64))
    }

    /// The rules every store obeys: written through `store`, read through `other` (the same store, or another
    /// replica's view of it).
    static func exercise(_ store: any DocumentStore, other: any DocumentStore) async throws {
        let a1 = record("alpha", .private, created: 1), a2 = record("alpha", .public, created: 2), b1 = record("beta", .private, created: 3)
        for entry in [b1, a2, a1] { try await store.put(entry) }
        #expect(try await other.record(id: a1.id) == a1)
        let alpha = try await other.page(visibleTo: "alpha", after: nil, limit: 10)
        #expect(alpha.records.map(\.id) == [a1.id, a2.id] && !alpha.hasMore)
        let beta = try await other.page(visibleTo: "beta", after: nil, limit: 1)
        #expect(beta.records.map(\.id) == [a2.id] && beta.hasMore)
        #expect(try await other.page(visibleTo: "beta", after: a2.id, limit: 1).records.map(\.id) == [b1.id])
        #expect(try await other.references(key: key("alpha"), namespace: try Namespace.tenant(id: "alpha"), excluding: "none"))
        #expect(!(try await other.references(key: key("alpha"), namespace: try Namespace.tenant(id: "alpha"), excluding: a1.id)))
        var updated = a1
        updated.status = .failed
        updated.failure = "stopped"
        try await store.put(updated)
        #expect(try await other.record(id: a1.id) == updated, "put replaces")
        #expect(try await other.remove(id: a1.id) == updated)
        #expect(try await store.remove(id: a1.id) == nil, "a delete on one replica is a miss on all")
        #expect(try await store.record(id: a1.id) == nil)
    }

    @Test func memoryStore() async throws {
        let store = MemoryDocumentStore()
        try await Self.exercise(store, other: store)
    }

    @Test func diskStoreFollowsTheSameRulesAndSurvivesReopening() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("reanchor-store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try DiskDocumentStore(directory: directory)
        try await Self.exercise(first, other: first)
        let kept = Self.record("gamma", .private, created: 9)
        let interrupted = Self.record("gamma", .private, created: 10, status: .processing)
        do {
            let store = try DiskDocumentStore(directory: directory)
            try await store.put(kept)
            try await store.put(interrupted)
        }
        // A corrupt record file, a record with a forged owner and a stray file are skipped, never fatal.
        try Data("{not json".utf8).write(to: directory.appendingPathComponent(DocumentRecord.newID() + ".json"))
        var forged = Self.record("gamma", .public, created: 11)
        forged.owner = "../gamma"
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        try encoder.encode(forged).write(to: directory.appendingPathComponent(forged.id + ".json"))
        try Data("notes".utf8).write(to: directory.appendingPathComponent("notes.json"))
        let reopened = try DiskDocumentStore(directory: directory)
        #expect(await reopened.record(id: kept.id) == kept)
        let resumed = try #require(await reopened.record(id: interrupted.id))
        #expect(resumed.status == .failed, "a record left processing by a restart is not reported ready")
        #expect(resumed.failure?.contains("restart") == true)
        #expect(await reopened.skipped.count == 2)
        #expect(await reopened.all().count == 4, "b1, a2 and the two gamma records")
    }

    @Test(.enabled(if: LocalRedisServer.executable != nil, "redis-server is not installed: apt-get install redis-server"))
    func redisStoreFollowsTheSameRulesAndIsSharedByReplicas() async throws {
        let server = try LocalRedisServer()
        defer { withExtendedLifetime(server) {} }  // the server (killed on deinit) lives to the end of the test
        let a = RedisDocumentStore(client: RedisClient(url: try server.url()))
        let b = RedisDocumentStore(client: RedisClient(url: try server.url()))
        try await Self.exercise(a, other: b)
    }

    @Test(.enabled(if: LocalRedisServer.executable != nil, "redis-server is not installed: apt-get install redis-server"))
    func redisStoreDropsACorruptOrForgedRecord() async throws {
        let server = try LocalRedisServer()
        defer { withExtendedLifetime(server) {} }  // the server (killed on deinit) lives to the end of the test
        let client = RedisClient(url: try server.url())
        let store = RedisDocumentStore(client: client)
        let junk = DocumentRecord.newID()
        try await client.set(RedisDocumentStore.keyPrefix + junk, ByteBuffer(string: "{not json"))
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        let moved = Self.record("alpha", .public, created: 1)
        try await client.set(RedisDocumentStore.keyPrefix + DocumentRecord.newID(), ByteBuffer(bytes: try encoder.encode(moved)))  // under another id
        var forged = Self.record("alpha", .public, created: 2)
        forged.chunks[0].key = "../not-a-key"
        try await client.set(RedisDocumentStore.keyPrefix + forged.id, ByteBuffer(bytes: try encoder.encode(forged)))
        #expect(try await store.record(id: junk) == nil)
        #expect(try await store.page(visibleTo: "alpha", after: nil, limit: 10).records.isEmpty)
        #expect(await store.corrupt == 3)
        #expect(try await client.keys(matching: "*").isEmpty, "bad values are deleted")
        await #expect(throws: DocumentsError.self, "a record that breaks the rules is not written") { try await store.put(forged) }
    }

    @Test func idsAreCheckedBeforeTheyNameAFile() {
        #expect(DocumentRecord.isWellFormedID(DocumentRecord.newID()))
        for bad in ["doc-../../etc/passwd", "doc-", "doc-" + String(repeating: "g", count: 32), "x" + String(repeating: "0", count: 35)] {
            #expect(!DocumentRecord.isWellFormedID(bad))
        }
    }
}
