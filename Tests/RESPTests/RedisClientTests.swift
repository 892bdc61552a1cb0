import Foundation
import NIOCore
import Testing
@testable import RESP

/// The client against a real `redis-server` started on a free loopback port for each test.
@Suite(.enabled(if: LocalRedisServer.executable != nil, "redis-server is not installed: apt-get install redis-server"))
struct RedisClientTests {
    func fastOptions() -> RedisClientOptions {
        var options = RedisClientOptions()
        options.commandTimeout = .seconds(5)  // generous: a loaded CI machine must not time out healthy commands
        options.connectTimeout = .seconds(5)
        options.initialBackoff = .milliseconds(20)
        options.maximumBackoff = .milliseconds(100)
        return options
    }

    @Test func commandsRoundTripBinaryValues() async throws {
        let server = try LocalRedisServer()
        defer { withExtendedLifetime(server) {} }  // the server (killed on deinit) lives to the end of the test
        let client = RedisClient(url: try server.url(), options: fastOptions())
        #expect(try await client.ping())
        let value = ByteBuffer(bytes: (0..<100_000).map { UInt8(truncatingIfNeeded: $0 * 7) } + [13, 10, 0])
        try await client.set("k1", value)
        #expect(try await client.get("k1") == value)
        #expect(try await client.exists("k1"))
        #expect(try await client.get("absent") == nil)
        #expect(try await client.lengths(["k1", "absent"]) == [value.readableBytes, 0])
        try await client.set("k2", ByteBuffer(string: "two"))
        #expect(try await client.get(["k1", "absent", "k2"]) == [value, nil, ByteBuffer(string: "two")])
        #expect(Set(try await client.keys(matching: "k*")) == ["k1", "k2"])
        #expect(try await client.delete(["k1", "k2", "absent"]) == 2)
        #expect(try await client.info("server")["tcp_port"] == String(server.port))
        await #expect(throws: RESPError.server("ERR unknown command 'NOSUCH', with args beginning with: ")) {
            try await client.send(RESPCommand("NOSUCH"))
        }
        #expect(try await client.ping(), "an error reply does not break the connection")
    }

    @Test func expiryRemovesTheKey() async throws {
        let server = try LocalRedisServer()
        defer { withExtendedLifetime(server) {} }  // the server (killed on deinit) lives to the end of the test
        let client = RedisClient(url: try server.url(), options: fastOptions())
        // An hour: however loaded the machine, PTTL reads it before it runs out.
        try await client.set("long", ByteBuffer(string: "v"), expiry: .seconds(3600))
        guard case .integer(let left) = try await client.send(RESPCommand("PTTL", "long")) else {
            Issue.record("PTTL is not an integer")
            return
        }
        #expect((1...3_600_000).contains(left), "PX was sent: \(left) ms left")
        try await client.set("short", ByteBuffer(string: "v"), expiry: .milliseconds(50))
        var gone = false
        for _ in 0..<300 where !gone {  // up to 30 s: a bound for a loaded machine, not a timing assertion
            try await Task.sleep(for: .milliseconds(100))
            gone = try await client.get("short") == nil
        }
        #expect(gone, "the key expired")
    }

    @Test func databasesAreSelectedByTheURL() async throws {
        let server = try LocalRedisServer()
        defer { withExtendedLifetime(server) {} }  // the server (killed on deinit) lives to the end of the test
        let zero = RedisClient(url: try server.url(database: 0), options: fastOptions())
        let five = RedisClient(url: try server.url(database: 5), options: fastOptions())
        try await five.set("k", ByteBuffer(string: "in five"))
        #expect(try await zero.get("k") == nil)
        #expect(try await five.get("k") == ByteBuffer(string: "in five"))
    }

    @Test func authenticationIsSentAndAWrongPasswordIsAClearError() async throws {
        let server = try LocalRedisServer(arguments: ["--requirepass", "hunter2"])
        defer { withExtendedLifetime(server) {} }  // the server (killed on deinit) lives to the end of the test
        let good = RedisClient(url: try server.url(password: "hunter2"), options: fastOptions())
        #expect(try await good.ping())
        let bad = RedisClient(url: try server.url(password: "wrong"), options: fastOptions())
        do {
            _ = try await bad.ping()
            Issue.record("a wrong password was accepted")
        } catch let RESPError.handshakeFailed(reason) {
            #expect(reason.contains("AUTH"))
        }
        let none = RedisClient(url: try server.url(), options: fastOptions())
        await #expect(throws: RESPError.self) { try await none.get("k") }
    }

    @Test func pipelinedRepliesComeBackInOrderOverThePool() async throws {
        let server = try LocalRedisServer()
        defer { withExtendedLifetime(server) {} }  // the server (killed on deinit) lives to the end of the test
        let client = RedisClient(url: try server.url(), options: fastOptions())
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    let keys = (0..<50).map { "w\(worker)-\($0)" }
                    _ = try await client.pipeline(keys.map { RESPCommand("SET", $0, $0) })
                    let values = try await client.get(keys)
                    #expect(values.map { $0.map { String(buffer: $0) } } == keys)
                }
            }
            try await group.waitForAll()
        }
    }

    @Test func aDeadServerFailsFastThenTheClientReconnectsWhenItReturns() async throws {
        let server = try LocalRedisServer()
        defer { withExtendedLifetime(server) {} }  // the server (killed on deinit) lives to the end of the test
        let client = RedisClient(url: try server.url(), options: fastOptions())
        try await client.set("k", ByteBuffer(string: "v"))
        server.stop()
        await #expect(throws: RESPError.self) { try await client.get("k") }
        guard case .down = await client.state else {
            Issue.record("state is \(await client.state), not down")
            return
        }
        // While backing off, commands fail at once without touching the network.
        let started = ContinuousClock.now
        await #expect(throws: RESPError.self) { try await client.get("k") }
        #expect(ContinuousClock.now - started < .milliseconds(200))
        try server.start()
        var answered = false
        for _ in 0..<50 where !answered {
            answered = (try? await client.ping()) == true
            if !answered { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(answered)
        #expect(await client.state == .up)
        #expect(await client.reconnections >= 1)
    }

    @Test func aHungServerTimesOut() async throws {
        let server = try LocalRedisServer()
        defer { withExtendedLifetime(server) {} }  // the server (killed on deinit) lives to the end of the test
        let client = RedisClient(url: try server.url(), options: fastOptions())
        #expect(try await client.ping())
        server.pause()
        defer { server.resume() }
        let started = ContinuousClock.now
        await #expect(throws: RESPError.timeout(milliseconds: 5000)) { try await client.get("k") }
        #expect(ContinuousClock.now - started < .seconds(120), "bounded by the timeout, not forever")
        server.resume()
        var answered = false
        for _ in 0..<50 where !answered {
            answered = (try? await client.ping()) == true
            if !answered { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(answered)
    }

    @Test func aBulkAboveTheLimitClosesTheConnectionInsteadOfBeingBuffered() async throws {
        let server = try LocalRedisServer()
        defer { withExtendedLifetime(server) {} }  // the server (killed on deinit) lives to the end of the test
        var options = fastOptions()
        options.limits.maximumBulkBytes = 1000
        let client = RedisClient(url: try server.url(), options: options)
        try await client.set("big", ByteBuffer(repeating: 1, count: 5000))
        do {
            _ = try await client.get("big")
            Issue.record("a 5000-byte bulk passed a 1000-byte limit")
        } catch let RESPError.replyTooLarge(bytes, limit) {
            #expect(bytes == 5000 && limit == 1000)
        }
        try await client.set("small", ByteBuffer(repeating: 1, count: 10))
        #expect(try await client.get("small")?.readableBytes == 10)
    }
}
