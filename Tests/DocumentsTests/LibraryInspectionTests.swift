import Foundation
import NIOCore
import RESP
import Testing
@testable import Documents

/// The operator's view (`reanchor library`): what it lists, what verify removes, what evict and clear leave.
@Suite struct LibraryInspectionTests {
    @Test func diskListingVerifyAndEvict() async throws {
        let directory = TestEntries.temporaryDirectory()
        let alice = try Namespace.tenant(id: "alice")
        let library = try DocumentLibrary(fingerprint: TestEntries.fingerprint, geometry: try TestEntries.model, directory: directory)
        try await library.store(tokens: [1, 2], slice: TestEntries.slice(count: 2), namespace: .shared)
        try await library.store(tokens: [3, 4, 5], slice: TestEntries.slice(count: 3), namespace: alice)
        try await library.store(tokens: [6], slice: TestEntries.slice(count: 1), namespace: alice)
        let listed = try LibraryInspection.disk(path: directory.path, namespace: nil, verify: false)
        #expect(listed.entries.count == 3 && listed.corrupt.isEmpty)
        #expect(try LibraryInspection.disk(path: directory.path, namespace: alice, verify: false).entries.map(\.tokens).sorted() == [1, 3])

        // A flipped payload byte passes the header-only listing; verify finds it by checksum and removes it.
        let victim = try #require(listed.entries.first { $0.tokens == 2 })
        var data = try Data(contentsOf: URL(fileURLWithPath: victim.location))
        data[data.count - 40] ^= 1
        try data.write(to: URL(fileURLWithPath: victim.location))
        #expect(try LibraryInspection.disk(path: directory.path, namespace: nil, verify: false).corrupt.isEmpty)
        let verified = try LibraryInspection.disk(path: directory.path, namespace: nil, verify: true)
        #expect(verified.entries.count == 2 && verified.corrupt.count == 1 && verified.corrupt[0].contains("checksum mismatch"))
        #expect(!FileManager.default.fileExists(atPath: victim.location))

        let sizes = verified.entries.sorted { $0.created < $1.created }.map(\.bytes)
        let removed = try LibraryInspection.evict(path: directory.path, maximumBytes: sizes[1])
        #expect(removed.count == 1 && removed[0].bytes == sizes[0], "the oldest goes first")
        #expect(try LibraryInspection.disk(path: directory.path, namespace: nil, verify: false).entries.count == 1)
    }

    @Test(.enabled(if: LocalRedisServer.executable != nil, "redis-server is not installed: apt-get install redis-server"))
    func remoteListingVerifyAndClear() async throws {
        let server = try LocalRedisServer()
        defer { withExtendedLifetime(server) {} }  // the server (killed on deinit) lives to the end of the test
        let client = RedisClient(url: try server.url())
        let tier = RemoteTier(client: client, geometry: try TestEntries.model)
        let alice = try Namespace.tenant(id: "alice")
        try await tier.store(TestEntries.entry(tokens: [1, 2]))
        try await tier.store(TestEntries.entry(tokens: [3], namespace: alice))
        let listed = try await LibraryInspection.remote(client, namespace: nil, verify: false)
        #expect(listed.entries.map(\.tokens).sorted() == [1, 2] && listed.corrupt.isEmpty)
        let key = RemoteTier.remoteKey(TestEntries.entry(tokens: [1, 2]).key)
        _ = try await client.send(RESPCommand("SETRANGE", key, "200", "XX"))
        let verified = try await LibraryInspection.remote(client, namespace: nil, verify: true)
        #expect(verified.entries.count == 1 && verified.corrupt.count == 1)
        #expect(try await client.exists(key) == false)
        #expect(try await LibraryInspection.clearRemote(client, namespace: .shared) == 0)
        #expect(try await LibraryInspection.clearRemote(client, namespace: alice) == 1)
        #expect(try await client.keys(matching: "*").isEmpty)
    }
}
