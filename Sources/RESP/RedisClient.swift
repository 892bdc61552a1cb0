import NIOCore
import NIOPosix

/// How a `RedisClient` connects and waits.
public struct RedisClientOptions: Sendable, Equatable {
    /// Connections kept open; commands are spread over them round-robin.
    public var poolSize = 2
    public var connectTimeout: TimeAmount = .milliseconds(500)
    /// Longest wait for the replies of one `send` (a pipeline counts as one).
    public var commandTimeout: TimeAmount = .seconds(2)
    /// Wait after a failure before the next connection attempt; doubles per failure up to `maximumBackoff`.
    public var initialBackoff: Duration = .milliseconds(50)
    public var maximumBackoff: Duration = .seconds(2)
    public var limits = RESPLimits.standard

    public init() {}
}

/// A pooled Redis client that never blocks on a dead server: while the server is down (after a failed
/// connect, a timeout or a dropped connection) commands fail at once with `RESPError.unavailable` until the
/// backoff has passed, then one attempt reconnects. `state` changes are observable so callers can log
/// once per change.
public actor RedisClient {
    public enum State: Sendable, Equatable {
        /// No command has been sent yet.
        case idle
        case up
        /// The last attempt failed; the reason says why.
        case down(String)
    }

    public nonisolated let url: RedisURL
    public nonisolated let options: RedisClientOptions
    private let group: EventLoopGroup
    private var connections: [RESPConnection?]
    private var connecting: [Task<RESPConnection, Error>?]
    private var next = 0
    private var retryAt: ContinuousClock.Instant? = nil
    private var backoff: Duration
    public private(set) var state = State.idle
    /// Failed commands and connection attempts since the client was made.
    public private(set) var failures = 0
    /// Times the client went from down to up again.
    public private(set) var reconnections = 0

    public init(url: RedisURL, options: RedisClientOptions = RedisClientOptions(),
                group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.url = url
        self.options = options
        self.group = group
        let size = max(options.poolSize, 1)
        connections = Array(repeating: nil, count: size)
        connecting = Array(repeating: nil, count: size)
        backoff = options.initialBackoff
    }

    /// Sends one command and returns its reply; an error reply is thrown as `RESPError.server`.
    public func send(_ command: RESPCommand) async throws -> RESPValue {
        let reply = try await pipeline([command])[0]
        if case .error(let message) = reply { throw RESPError.server(message) }
        return reply
    }

    /// Sends `commands` in one write on one connection and returns the replies in order (error replies
    /// stay `.error` values: one refused command does not hide the others' replies).
    /// - Throws: `RESPError.unavailable` while backing off, `timeout`, `connectionClosed`, `protocolViolation`.
    public func pipeline(_ commands: [RESPCommand]) async throws -> [RESPValue] {
        guard !commands.isEmpty else { return [] }
        let slot = next
        next = (next + 1) % connections.count
        let connection = try await connection(slot)
        do {
            return try await connection.send(commands, timeout: options.commandTimeout)
        } catch {
            connection.close()
            if connections[slot] === connection { connections[slot] = nil }
            markDown(error)
            throw error
        }
    }

    /// Closes every connection; later commands reconnect.
    public func close() {
        for connection in connections { connection?.close() }
        connections = connections.map { _ in nil }
    }

    private func connection(_ slot: Int) async throws -> RESPConnection {
        if let connection = connections[slot], connection.isActive { return connection }
        connections[slot] = nil
        if let task = connecting[slot] { return try await task.value }
        if let retryAt, ContinuousClock.now < retryAt, case .down(let reason) = state {
            failures += 1
            throw RESPError.unavailable(reason)
        }
        let url = url, options = options, group = group
        let task = Task {
            try await RESPConnection.connect(to: url, limits: options.limits, connectTimeout: options.connectTimeout,
                                             commandTimeout: options.commandTimeout, group: group)
        }
        connecting[slot] = task
        defer { connecting[slot] = nil }
        do {
            let connection = try await task.value
            connections[slot] = connection
            if case .down = state { reconnections += 1 }
            state = .up
            backoff = options.initialBackoff
            retryAt = nil
            return connection
        } catch {
            markDown(error)
            throw error
        }
    }

    private func markDown(_ error: Error) {
        failures += 1
        // An error reply or a refused oversized value is not a fault of the server: it stays "up" (the
        // connection a refused value closed is remade by the next command, without backoff).
        switch error as? RESPError {
        case .server?, .replyTooLarge?: return
        default: break
        }
        state = .down("\(error)")
        retryAt = ContinuousClock.now + backoff
        backoff = min(backoff * 2, options.maximumBackoff)
    }
}
