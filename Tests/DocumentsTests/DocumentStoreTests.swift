import Foundation
import NIOCore
import RESP
import Testing
@testable import Documents

/// Document records: the same visibility rules in memory and in the shared Redis, where every replica
/// sees the same documents.
@Suite struct DocumentStoreTests {
    let alice: Namespace
    let bob: Namespace
    init() throws {
        alice = try Namespace.tenant(id: "alice")
        bob = try Namespace.tenant(id: "bob")
    }

    /// The rules every store obeys, run on `store` (and `other`, a second replica's view of the same store).
    func checkRules(_ store: any DocumentStore, other: any DocumentStore) async throws {
        let chunk = String(repeating: "ab", count: 32)
        try await store.put(DocumentRecord(id: "a-private", owner: alice, visibility: .private, chunks: [chunk], status: .ready))
        try await store.put(DocumentRecord(id: "a-public", owner: alice, visibility: .public))
        try await store.put(DocumentRecord(id: "b-private", owner: bob, visibility: .private))
        #expect(try await other.record(id: "a-private", for: alice)?.chunks == [chunk])
        #expect(try await other.record(id: "a-private", for: bob) == nil, "another tenant's private document does not exist for bob")
        #expect(try await other.record(id: "a-public", for: bob)?.owner == "tenant:alice")
        #expect(try await other.records(for: bob).map(\.id) == ["a-public", "b-private"])
        #expect(try await other.records(for: .shared).map(\.id) == ["a-public"])
        await #expect(throws: DocumentsError.notOwner(id: "a-public")) {
            try await other.put(DocumentRecord(id: "a-public", owner: bob, visibility: .public))
        }
        #expect(try await other.delete(id: "a-public", for: bob) == false, "only the owner deletes")
        #expect(try await other.delete(id: "a-public", for: alice))
        #expect(try await store.record(id: "a-public", for: alice) == nil, "a delete on one replica is a miss on all")
        #expect(try await store.delete(id: "a-public", for: alice) == false)
    }

    @Test func memoryStoreAppliesTheRules() async throws {
        let store = MemoryDocumentStore()
        try await checkRules(store, other: store)
    }

    @Test(.enabled(if: LocalRedisServer.executable != nil, "redis-server is not installed: apt-get install redis-server"))
    func redisStoreIsSharedByReplicasAndAppliesTheRules() async throws {
        let server = try LocalRedisServer()
        defer { withExtendedLifetime(server) {} }  // the server (killed on deinit) lives to the end of the test
        let a = RedisDocumentStore(client: RedisClient(url: try server.url()))
        let b = RedisDocumentStore(client: RedisClient(url: try server.url()))
        try await checkRules(a, other: b)
    }

    @Test(.enabled(if: LocalRedisServer.executable != nil, "redis-server is not installed: apt-get install redis-server"))
    func aCorruptOrForgedRecordIsAbsentAndDeleted() async throws {
        let server = try LocalRedisServer()
        defer { withExtendedLifetime(server) {} }  // the server (killed on deinit) lives to the end of the test
        let client = RedisClient(url: try server.url())
        let store = RedisDocumentStore(client: client)
        try await client.set(RedisDocumentStore.keyPrefix + "junk", ByteBuffer(string: "{not json"))
        let forged = try JSONEncoder().encode(DocumentRecord(id: "other", owner: alice, visibility: .public))
        try await client.set(RedisDocumentStore.keyPrefix + "renamed", ByteBuffer(bytes: forged))  // stored under another id
        #expect(try await store.record(id: "junk", for: alice) == nil)
        #expect(try await store.records(for: alice).isEmpty)
        #expect(await store.corrupt == 2)
        #expect(try await client.keys(matching: "*").isEmpty)
    }

    @Test func documentIDsAreValidated() {
        #expect(throws: DocumentsError.self) { try DocumentRecord.validate(id: "") }
        #expect(throws: DocumentsError.self) { try DocumentRecord.validate(id: "a/b") }
        #expect(throws: DocumentsError.self) { try DocumentRecord.validate(id: "..") }
        #expect(throws: DocumentsError.self) { try DocumentRecord.validate(id: String(repeating: "x", count: 129)) }
        #expect(throws: Never.self) { try DocumentRecord.validate(id: "report-2024_v1.2") }
    }
}
