import Cache
import Foundation
import NIOCore
@testable import RESP
import Testing
@testable import Documents

/// The remote tier against a real `redis-server`: shared between libraries, verified before it is served,
/// and never the cause of a failed lookup or store whatever the server does.
@Suite(.enabled(if: LocalRedisServer.executable != nil, "redis-server is not installed: apt-get install redis-server"))
struct RemoteTierTests {
    let fingerprint = TestEntries.fingerprint

    static func options() -> RedisClientOptions {
        var options = RedisClientOptions()
        options.commandTimeout = .seconds(5)  // generous: a loaded CI machine must not time out healthy commands
        options.connectTimeout = .seconds(5)
        options.initialBackoff = .milliseconds(20)
        options.maximumBackoff = .milliseconds(100)
        return options
    }

    func remote(_ server: LocalRedisServer, ttl: Duration? = nil) throws -> RemoteTier {
        RemoteTier(url: try server.url(), geometry: try TestEntries.model, timeToLive: ttl, options: Self.options())
    }

    /// A library of one replica: memory (no budget unless given), optional disk, the shared remote tier.
    func replica(_ server: LocalRedisServer, directory: URL? = nil, budget: Int = 0) throws -> DocumentLibrary {
        try DocumentLibrary(fingerprint: fingerprint, geometry: try TestEntries.model, memoryBudget: budget, directory: directory,
                            remote: try remote(server))
    }

    func slice(count: Int, seed: Float = 1) -> CacheSlice { TestEntries.slice(count: count, seed: seed) }

    @Test func anEntryStoredByOneReplicaIsAVerifiedHitOnAnotherAndIsCopiedDown() async throws {
        let server = try LocalRedisServer()
        defer { withExtendedLifetime(server) {} }  // the server (killed on deinit) lives to the end of the test
        let a = try replica(server)
        let directory = TestEntries.temporaryDirectory()
        let b = try replica(server, directory: directory, budget: 1 << 20)
        try await a.store(tokens: [1, 2, 3], slice: slice(count: 3), namespace: .shared)
        #expect(await b.lookup(tokens: [1, 2, 3], namespace: .shared)?.slice == slice(count: 3))
        #expect(await b.statistics.remote?.hits == 1)
        #expect(await b.memory.statistics.entries == 1)
        #expect(await b.disk?.statistics.entries == 1)
        #expect(await b.lookup(tokens: [1, 2, 3], namespace: .shared) != nil)
        #expect(await b.statistics.remote?.hits == 1, "the second lookup is served locally")
    }

    @Test func tenantsStayApartInTheSharedStore() async throws {
        let server = try LocalRedisServer()
        defer { withExtendedLifetime(server) {} }  // the server (killed on deinit) lives to the end of the test
        let a = try replica(server)
        let b = try replica(server)
        let alice = try Namespace.tenant(id: "alice")
        let bob = try Namespace.tenant(id: "bob")
        try await a.store(tokens: [5, 5], slice: slice(count: 2), namespace: alice)
        #expect(await b.lookup(tokens: [5, 5], namespace: bob) == nil)
        #expect(await b.lookup(tokens: [5, 5], namespace: .shared) == nil)
        #expect(await b.lookup(tokens: [5, 5], namespace: alice) != nil)
        let tier = try #require(b.remote)
        #expect(try await tier.census(namespace: alice).entries == 1)
        #expect(try await tier.census(namespace: bob).entries == 0)
        let keys = try await tier.client.keys(matching: "*")
        #expect(keys == [RemoteTier.keyPrefix + alice.digest + ":" + ChunkKey(fingerprint: fingerprint, namespace: alice, tokens: [5, 5]).hex])
    }

    @Test(arguments: ["flip", "truncate", "empty", "swap", "garbage"])
    func aCorruptRemoteValueIsDeletedAndNeverServed(damage: String) async throws {
        let server = try LocalRedisServer()
        defer { withExtendedLifetime(server) {} }  // the server (killed on deinit) lives to the end of the test
        let library = try replica(server)
        try await library.store(tokens: [4, 2], slice: slice(count: 2), namespace: .shared)
        let tier = try #require(library.remote)
        let key = RemoteTier.remoteKey(ChunkKey(fingerprint: fingerprint, namespace: .shared, tokens: [4, 2]))
        var data = try #require(try await tier.client.get(key)).readableBytesView.map { $0 }
        switch damage {
        case "flip": data[data.count - 40] ^= 0x40
        case "truncate": data = Array(data.prefix(data.count / 2))  // a killed writer's partial value
        case "empty": data = []
        case "swap": data = Array(try EntryCodec.encode(TestEntries.entry(tokens: [7])))
        default: data = Array("not an entry at all".utf8)
        }
        try await tier.client.set(key, ByteBuffer(bytes: data))
        #expect(await library.lookup(tokens: [4, 2], namespace: .shared) == nil)
        #expect(await library.statistics.remote?.corrupt == 1)
        #expect(try await tier.client.exists(key) == false, "the bad value is deleted")
        let events = await library.takeEvents()
        #expect(events.map(\.kind) == [.discarded] && events.first?.path == key, "\(events)")
    }

    @Test func aValueAboveTheEntryLimitIsDeletedWithoutBeingRead() async throws {
        let server = try LocalRedisServer()
        defer { withExtendedLifetime(server) {} }  // the server (killed on deinit) lives to the end of the test
        var limits = EntryLimits()
        limits.maximumEntryBytes = 4096
        let tier = RemoteTier(url: try server.url(), geometry: try TestEntries.model, limits: limits, options: Self.options())
        let key = ChunkKey(fingerprint: fingerprint, namespace: .shared, tokens: [1])
        try await tier.client.set(RemoteTier.remoteKey(key), ByteBuffer(repeating: 0, count: 100_000))
        #expect(await tier.entry(for: key) == nil)
        let statistics = await tier.statistics
        #expect(statistics.corrupt == 1 && statistics.faults == 0)
        #expect(try await tier.client.exists(RemoteTier.remoteKey(key)) == false)
    }

    @Test func entriesExpireAfterTheirTimeToLive() async throws {
        let server = try LocalRedisServer()
        defer { withExtendedLifetime(server) {} }  // the server (killed on deinit) lives to the end of the test
        // An hour: however loaded the machine, PTTL reads it before it runs out.
        let lasting = try remote(server, ttl: .seconds(3600))
        let kept = TestEntries.entry(tokens: [4])
        try await lasting.store(kept)
        guard case .integer(let left) = try await lasting.client.send(RESPCommand("PTTL", RemoteTier.remoteKey(kept.key))) else {
            Issue.record("PTTL is not an integer")
            return
        }
        #expect((1...3_600_000).contains(left), "the TTL was sent: \(left) ms left")
        let tier = try remote(server, ttl: .milliseconds(50))
        let entry = TestEntries.entry(tokens: [3])
        try await tier.store(entry)
        var gone = false
        for _ in 0..<300 where !gone {  // up to 30 s: a bound for a loaded machine, not a timing assertion
            try await Task.sleep(for: .milliseconds(100))
            gone = await tier.entry(for: entry.key) == nil
        }
        #expect(gone, "the entry expired")
        let statistics = await tier.statistics
        #expect(statistics.faults == 0 && statistics.corrupt == 0)
    }

    @Test func evictionUnderMaxmemoryIsAMissNeverAnError() async throws {
        let server = try LocalRedisServer(arguments: ["--maxmemory", "2mb", "--maxmemory-policy", "allkeys-lru"])
        defer { withExtendedLifetime(server) {} }  // the server (killed on deinit) lives to the end of the test
        let library = try replica(server)
        let tokens = (0..<400).map { [1000 + $0] + Array(repeating: 7, count: 63) }  // 400 entries of ~9 KB: more than 2 MB
        for chunk in tokens { try await library.store(tokens: chunk, slice: slice(count: 64), namespace: .shared) }
        var found = 0
        for chunk in tokens where await library.lookup(tokens: chunk, namespace: .shared) != nil { found += 1 }
        let statistics = try #require(await library.statistics.remote)
        #expect(found > 0 && found < tokens.count, "some entries were evicted, some kept (\(found))")
        #expect(statistics.faults == 0 && statistics.corrupt == 0 && statistics.storeFailures == 0)
    }

    @Test func aFullServerWithoutEvictionRefusesStoresWhichAreRecordedNotThrown() async throws {
        let server = try LocalRedisServer(arguments: ["--maxmemory", "1mb", "--maxmemory-policy", "noeviction"])
        defer { withExtendedLifetime(server) {} }  // the server (killed on deinit) lives to the end of the test
        let library = try replica(server, budget: 1 << 30)
        for index in 0..<600 { try await library.store(tokens: [index, 1, 1, 1], slice: slice(count: 4), namespace: .shared) }
        let statistics = try #require(await library.statistics.remote)
        #expect(statistics.storeFailures > 0 && statistics.faults == 0)
        #expect(await library.takeEvents().contains { $0.kind == .storeFailed && $0.reason.contains("OOM") })
        #expect(await library.lookup(tokens: [599, 1, 1, 1], namespace: .shared) != nil, "memory still serves it")
    }

    @Test func aServerStoppedMidLoadFailsNothingAndHitsResumeAfterRestart() async throws {
        let server = try LocalRedisServer()
        defer { withExtendedLifetime(server) {} }  // the server (killed on deinit) lives to the end of the test
        let writer = try replica(server)
        let reader = try replica(server)
        let chunks = (0..<40).map { [2000 + $0, 1] }
        for (index, chunk) in chunks.enumerated() {
            if index == 20 { server.stop() }  // mid-load, as a crash
            try await writer.store(tokens: chunk, slice: slice(count: 2), namespace: .shared)
        }
        for chunk in chunks { _ = await reader.lookup(tokens: chunk, namespace: .shared) }  // none may throw or trap
        let down = try #require(await reader.statistics.remote)
        #expect(down.faults > 0 && down.hits == 0 && down.corrupt == 0)
        let events = await reader.takeEvents()
        #expect(events.filter { $0.kind == .remoteUnavailable }.count == 1, "logged once per state change: \(events)")

        try server.start()  // restarted empty (no persistence)
        try await writer.store(tokens: [9, 9], slice: slice(count: 2), namespace: .shared)  // may meet the backoff
        var hit = false
        for _ in 0..<50 where !hit {
            try await writer.store(tokens: [9, 9], slice: slice(count: 2), namespace: .shared)
            hit = await reader.lookup(tokens: [9, 9], namespace: .shared) != nil
            if !hit { try await Task.sleep(for: .milliseconds(30)) }
        }
        #expect(hit, "hits resume after the restart")
        #expect(await reader.takeEvents().map(\.kind).contains(.remoteRestored))
    }

    @Test func aHungServerTimesOutAndTheLookupGoesOnLocally() async throws {
        let server = try LocalRedisServer()
        defer { withExtendedLifetime(server) {} }  // the server (killed on deinit) lives to the end of the test
        let library = try replica(server)
        try await library.store(tokens: [8, 8], slice: slice(count: 2), namespace: .shared)
        server.pause()
        defer { server.resume() }
        let started = ContinuousClock.now
        #expect(await library.lookup(tokens: [8, 8], namespace: .shared) == nil)
        #expect(ContinuousClock.now - started < .seconds(120), "bounded by the timeout, not forever")
        #expect(await library.statistics.remote?.faults ?? 0 >= 1)
    }

    @Test func aWriterKilledMidWriteNeverLeavesAServedPartialEntry() async throws {
        // SET is atomic: a client killed while sending a value leaves no key at all. Redis discards the
        // unfinished command when the connection drops.
        let server = try LocalRedisServer()
        defer { withExtendedLifetime(server) {} }  // the server (killed on deinit) lives to the end of the test
        let entry = TestEntries.entry(tokens: (0..<64).map { $0 })
        let data = try EntryCodec.encode(entry)
        let key = RemoteTier.remoteKey(entry.key)
        let connection = try await RESPConnection.connect(to: try server.url())
        var partial = ByteBuffer()
        RESPCommand([ByteBuffer(string: "SET"), ByteBuffer(string: key), ByteBuffer(bytes: data)]).encode(into: &partial)
        let cut = partial.getSlice(at: 0, length: partial.readableBytes / 2) ?? ByteBuffer()
        try await connection.channel.writeAndFlush(RESPRequest(payload: cut, replies: []))
        connection.close()  // the writer dies here
        let tier = try remote(server)
        try await Task.sleep(for: .milliseconds(50))
        #expect(await tier.entry(for: entry.key) == nil)
        #expect(try await tier.client.exists(key) == false)
    }
}
