import NIOCore

/// One command: its name and arguments as binary-safe strings, sent as a RESP array of bulk strings.
public struct RESPCommand: Sendable {
    public var arguments: [ByteBuffer]

    /// - arguments: the command name first (`GET`, `SET`, ...), then its arguments.
    public init(_ arguments: [ByteBuffer]) { self.arguments = arguments }

    /// A command whose arguments are all text.
    public init(_ words: String...) { self.init(words: words) }

    public init(words: [String]) { self.init(words.map { ByteBuffer(string: $0) }) }

    /// The command's name, for messages.
    public var name: String { arguments.first.map { String(buffer: $0) } ?? "" }

    /// Bytes on the wire.
    public var encodedBytes: Int {
        arguments.reduce(12) { $0 + $1.readableBytes + 16 }
    }

    /// Appends `*N\r\n` then `$len\r\n<bytes>\r\n` for each argument.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeString("*\(arguments.count)\r\n")
        for argument in arguments {
            buffer.writeString("$\(argument.readableBytes)\r\n")
            buffer.writeImmutableBuffer(argument)
            buffer.writeString("\r\n")
        }
    }
}
