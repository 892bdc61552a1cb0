/// An incremental parser of a `text/event-stream` body (the WHATWG server-sent events format): bytes go in
/// split anywhere (inside a line, between CR and LF), and the `data` of every complete event comes out.
///
/// Lines end with LF, CR or CRLF; an empty line ends an event. `data:` lines of one event are joined with
/// "\n" (one optional space after the colon is dropped); comments (`:` first) and other fields (`event`,
/// `id`, `retry`) are skipped. An event the stream ends inside is incomplete and not returned, as the
/// format specifies. A line longer than `maximumLineBytes` is a `ServerSentEventError`: the peer is a
/// network server, so nothing it sends may grow memory without bound.
public struct ServerSentEventParser: Sendable {
    public let maximumLineBytes: Int
    private var line: [UInt8] = []
    private var data: [String] = []
    private var hasData = false
    /// The previous byte was CR: an LF right after it ends nothing more.
    private var afterCR = false

    public init(maximumLineBytes: Int = 1 << 20) {
        self.maximumLineBytes = maximumLineBytes
    }

    /// Consumes `bytes` and returns the data of the events they complete, in order.
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) throws -> [String] where Bytes.Element == UInt8 {
        var events: [String] = []
        for byte in bytes {
            if afterCR {
                afterCR = false
                if byte == UInt8(ascii: "\n") { continue }
            }
            switch byte {
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                afterCR = byte == UInt8(ascii: "\r")
                if let event = endLine() { events.append(event) }
            default:
                guard line.count < maximumLineBytes else { throw ServerSentEventError.lineTooLong(limit: maximumLineBytes) }
                line.append(byte)
            }
        }
        return events
    }

    /// True when the bytes fed so far end inside an event (a truncated stream).
    public var isInsideEvent: Bool { hasData || !line.isEmpty }

    /// Ends the current line; returns the event's data when the line was empty and ended an event.
    private mutating func endLine() -> String? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty {
            guard hasData else { return nil }
            let event = data.joined(separator: "\n")
            data.removeAll()
            hasData = false
            return event
        }
        if line.first == UInt8(ascii: ":") { return nil }
        let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.endIndex
        guard line[..<colon].elementsEqual("data".utf8) else { return nil }
        var valueStart = colon < line.endIndex ? line.index(after: colon) : colon
        if valueStart < line.endIndex, line[valueStart] == UInt8(ascii: " ") { valueStart = line.index(after: valueStart) }
        data.append(String(decoding: line[valueStart...], as: UTF8.self))
        hasData = true
        return nil
    }
}

public enum ServerSentEventError: Error, CustomStringConvertible, Equatable {
    case lineTooLong(limit: Int)

    public var description: String {
        switch self {
        case .lineTooLong(let limit): "server-sent event line longer than \(limit) bytes"
        }
    }
}
