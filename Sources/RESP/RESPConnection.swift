import NIOCore
import NIOPosix

/// One TCP connection to a Redis server, set up (AUTH, SELECT) and ready for commands. Commands sent
/// together are written in one flush and answered in order (pipelining). A command without a reply
/// within its timeout closes the connection: later replies could no longer be matched to their commands.
public final class RESPConnection: Sendable {
    let channel: Channel

    private init(channel: Channel) { self.channel = channel }

    /// Connects to `url`, authenticates and selects its database.
    /// - Throws: `RESPError.connectionClosed` when the server cannot be reached, `handshakeFailed` when
    ///   AUTH or SELECT is refused, `timeout`.
    public static func connect(to url: RedisURL, limits: RESPLimits = .standard, connectTimeout: TimeAmount = .seconds(1),
                               commandTimeout: TimeAmount = .seconds(2),
                               group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> RESPConnection {
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(connectTimeout)
            .channelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPReplyDecoder(limits: limits)))
                    try channel.pipeline.syncOperations.addHandler(RESPClientHandler())
                }
            }
        let channel: Channel
        do {
            channel = try await bootstrap.connect(host: url.host, port: url.port).get()
        } catch {
            throw RESPError.connectionClosed("cannot connect to \(url.host):\(url.port): \(error)")
        }
        let connection = RESPConnection(channel: channel)
        do {
            var setup: [RESPCommand] = []
            if let password = url.password {
                setup.append(url.user.map { RESPCommand("AUTH", $0, password) } ?? RESPCommand("AUTH", password))
            }
            if url.database != 0 { setup.append(RESPCommand("SELECT", String(url.database))) }
            if !setup.isEmpty {
                for (command, reply) in zip(setup, try await connection.send(setup, timeout: commandTimeout)) {
                    if case .error(let message) = reply { throw RESPError.handshakeFailed("\(command.name): \(message)") }
                }
            }
        } catch {
            connection.close()
            throw error
        }
        return connection
    }

    public var isActive: Bool { channel.isActive }

    public func close() { channel.close(promise: nil) }

    /// Sends `commands` in one write and returns their replies in order (error replies included as `.error`).
    /// - Throws: `RESPError.timeout` (the connection is then closed), `connectionClosed`, `protocolViolation`.
    public func send(_ commands: [RESPCommand], timeout: TimeAmount) async throws -> [RESPValue] {
        guard !commands.isEmpty else { return [] }
        let loop = channel.eventLoop
        var payload = channel.allocator.buffer(capacity: commands.reduce(0) { $0 + $1.encodedBytes })
        for command in commands { command.encode(into: &payload) }
        let replies = commands.map { _ in loop.makePromise(of: RESPValue.self) }
        let channel = self.channel
        let deadline = loop.scheduleTask(in: timeout) {
            let error = RESPError.timeout(milliseconds: timeout.nanoseconds / 1_000_000)
            for reply in replies { reply.fail(error) }
            channel.close(promise: nil)
        }
        channel.writeAndFlush(RESPRequest(payload: payload, replies: replies)).whenFailure { error in
            let failure = error as? RESPError ?? RESPError.connectionClosed("write failed: \(error)")
            for reply in replies { reply.fail(failure) }
        }
        defer { deadline.cancel() }
        var values: [RESPValue] = []
        values.reserveCapacity(replies.count)
        for reply in replies { values.append(try await reply.futureResult.get()) }
        return values
    }
}
