import Documents
import Foundation
import Testing

/// The document metadata stores: the same rules in memory and on disk; the disk one survives a reopen.
@Suite struct DocumentStoreTests {
    static func record(_ owner: String, _ visibility: DocumentVisibility, created: Double, status: DocumentStatus = .ready) -> DocumentRecord {
        DocumentRecord(id: DocumentRecord.newID(), owner: owner, visibility: visibility, status: status, context: [0],
                       chunks: [DocumentChunk(key: "k-\(owner)", tokens: [5, 6, 7])], metadata: #"{"a":1}"#,
                       created: Date(timeIntervalSince1970: created))
    }

    static func exercise(_ store: any DocumentStore) async throws {
        let a1 = record("alpha", .private, created: 1), a2 = record("alpha", .public, created: 2), b1 = record("beta", .private, created: 3)
        for entry in [b1, a2, a1] { try await store.put(entry) }
        #expect(await store.record(id: a1.id) == a1)
        let alpha = await store.page(visibleTo: "alpha", after: nil, limit: 10)
        #expect(alpha.records.map(\.id) == [a1.id, a2.id] && !alpha.hasMore)
        let beta = await store.page(visibleTo: "beta", after: nil, limit: 1)
        #expect(beta.records.map(\.id) == [a2.id] && beta.hasMore)
        #expect(await store.page(visibleTo: "beta", after: a2.id, limit: 1).records.map(\.id) == [b1.id])
        #expect(await store.references(key: "k-alpha", namespace: try Namespace.tenant(id: "alpha"), excluding: "none"))
        #expect(!(await store.references(key: "k-alpha", namespace: try Namespace.tenant(id: "alpha"), excluding: a1.id)))
        #expect(try await store.remove(id: a1.id) == a1)
        #expect(try await store.remove(id: a1.id) == nil)
        #expect(await store.record(id: a1.id) == nil)
    }

    @Test func memoryStore() async throws { try await Self.exercise(MemoryDocumentStore()) }

    @Test func diskStoreFollowsTheSameRulesAndSurvivesReopening() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("reanchor-store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try await Self.exercise(try DiskDocumentStore(directory: directory))
        let kept = Self.record("gamma", .private, created: 9)
        let interrupted = Self.record("gamma", .private, created: 10, status: .processing)
        do {
            let store = try DiskDocumentStore(directory: directory)
            try await store.put(kept)
            try await store.put(interrupted)
        }
        // A corrupt record file and a stray file are skipped, never fatal.
        try Data("{not json".utf8).write(to: directory.appendingPathComponent(DocumentRecord.newID() + ".json"))
        try Data("notes".utf8).write(to: directory.appendingPathComponent("notes.json"))
        let reopened = try DiskDocumentStore(directory: directory)
        #expect(await reopened.record(id: kept.id) == kept)
        let resumed = try #require(await reopened.record(id: interrupted.id))
        #expect(resumed.status == .failed, "a record left processing by a restart is not reported ready")
        #expect(resumed.failure?.contains("restart") == true)
        #expect(await reopened.skipped.count == 1)
        #expect(await reopened.all().count == 4, "b1, a2 and the two gamma records")
    }

    @Test func idsAreCheckedBeforeTheyNameAFile() {
        #expect(DocumentRecord.isWellFormedID(DocumentRecord.newID()))
        for bad in ["doc-../../etc/passwd", "doc-", "doc-" + String(repeating: "g", count: 32), "x" + String(repeating: "0", count: 35)] {
            #expect(!DocumentRecord.isWellFormedID(bad))
        }
    }
}
