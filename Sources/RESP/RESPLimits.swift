/// Bounds on what a server's reply may claim, checked before anything it claims is allocated or awaited:
/// a broken or hostile server can make a command fail, never make the client trap or grow without end.
public struct RESPLimits: Sendable, Equatable {
    /// Bytes of one bulk string (Redis's own `proto-max-bulk-len` default is 512 MiB).
    public var maximumBulkBytes = 512 << 20
    /// Elements of one array reply.
    public var maximumArrayElements = 1 << 20
    /// Arrays nested inside arrays.
    public var maximumDepth = 8
    /// Bytes of a simple string, error or integer line.
    public var maximumLineBytes = 64 << 10
    /// Bytes buffered for one reply that is not complete yet (a whole pipelined array of bulks included).
    public var maximumReplyBytes = 1 << 30

    public init() {}

    public static let standard = RESPLimits()
}

/// What went wrong talking to Redis, with what a person needs to act on it.
public enum RESPError: Error, Equatable, CustomStringConvertible {
    /// A `redis://` URL that cannot be used; `part` names the piece (scheme, host, port, database, ...).
    case invalidURL(url: String, part: String, reason: String)
    /// The reply broke the protocol or a limit; the connection is closed.
    case protocolViolation(String)
    /// A bulk reply claims more bytes than `RESPLimits.maximumBulkBytes`; the connection is closed without
    /// reading it. The caller may delete the value (a value it would never accept).
    case replyTooLarge(bytes: Int64, limit: Int)
    /// The server answered with an error reply (`-ERR ...`).
    case server(String)
    /// No reply within the command timeout; the connection is closed.
    case timeout(milliseconds: Int64)
    /// The connection closed or could not be made.
    case connectionClosed(String)
    /// The server is considered down until the next reconnect attempt (backoff); the last failure says why.
    case unavailable(String)
    /// AUTH or SELECT was refused.
    case handshakeFailed(String)
    /// The reply has another type than the command returns.
    case unexpectedReply(command: String, reply: String)

    public var description: String {
        switch self {
        case let .invalidURL(url, part, reason): return "Redis URL '\(url)': \(part) \(reason)"
        case .protocolViolation(let reason): return "Redis protocol violation: \(reason)"
        case let .replyTooLarge(bytes, limit): return "Redis reply of \(bytes) bytes is above the limit of \(limit) bytes"
        case .server(let message): return "Redis error: \(message)"
        case .timeout(let milliseconds): return "Redis did not answer within \(milliseconds) ms"
        case .connectionClosed(let reason): return "Redis connection closed: \(reason)"
        case .unavailable(let reason): return "Redis unavailable (retrying with backoff): \(reason)"
        case .handshakeFailed(let reason): return "Redis refused the connection setup: \(reason)"
        case let .unexpectedReply(command, reply): return "Redis answered \(command) with \(reply)"
        }
    }
}
