import NIOCore

/// One RESP2 reply from a Redis (or Valkey) server.
public enum RESPValue: Sendable, Equatable {
    /// `+OK\r\n`
    case simple(String)
    /// `-ERR message\r\n`: the server refused the command (not a connection fault).
    case error(String)
    /// `:42\r\n`
    case integer(Int64)
    /// `$3\r\nfoo\r\n`: a binary-safe string (a slice of the receive buffer, not a copy).
    case bulk(ByteBuffer)
    /// `$-1\r\n` or `*-1\r\n`: no such key.
    case null
    /// `*2\r\n...`: nested replies (SCAN, INFO sections are bulk).
    case array([RESPValue])

    /// The bytes of a bulk or simple string as UTF-8 text, or nil for other replies.
    public var text: String? {
        switch self {
        case .simple(let text): return text
        case .bulk(let buffer): return String(buffer: buffer)
        default: return nil
        }
    }

    /// A short description for error messages (never the whole of a large bulk).
    public var summary: String {
        switch self {
        case .simple(let text): return "+\(text.prefix(64))"
        case .error(let text): return "-\(text.prefix(200))"
        case .integer(let value): return ":\(value)"
        case .bulk(let buffer): return "bulk of \(buffer.readableBytes) bytes"
        case .null: return "null"
        case .array(let values): return "array of \(values.count)"
        }
    }
}
