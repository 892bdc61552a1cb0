import NIOCore

/// Strict, bounded RESP2 reply parsing. `parse` takes one whole reply off the front of a buffer, or
/// leaves the buffer untouched and returns nil when the reply is not complete yet. Every length, count
/// and line is checked against `RESPLimits` before it is trusted; anything else is a `protocolViolation`.
public struct RESPParser: Sendable {
    public let limits: RESPLimits

    public init(limits: RESPLimits = .standard) { self.limits = limits }

    /// One reply from the front of `buffer`, or nil (buffer unchanged) when more bytes are needed.
    /// - Throws: `RESPError.protocolViolation` naming what is wrong (type byte, length, line, terminator).
    public func parse(_ buffer: inout ByteBuffer) throws -> RESPValue? {
        var copy = buffer
        guard let value = try value(&copy, depth: 0) else { return nil }
        buffer = copy
        return value
    }

    private func value(_ buffer: inout ByteBuffer, depth: Int) throws -> RESPValue? {
        guard let type = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
        switch type {
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: ":"):
            var probe = buffer
            probe.moveReaderIndex(forwardBy: 1)
            guard let line = try line(&probe) else { return nil }
            buffer = probe
            switch type {
            case UInt8(ascii: "+"): return .simple(line)
            case UInt8(ascii: "-"): return .error(line)
            default: return .integer(try integer(line, what: "integer reply"))
            }
        case UInt8(ascii: "$"):
            var probe = buffer
            probe.moveReaderIndex(forwardBy: 1)
            guard let line = try line(&probe) else { return nil }
            let length = try integer(line, what: "bulk length")
            if length == -1 {
                buffer = probe
                return .null
            }
            guard length >= 0 else { throw RESPError.protocolViolation("bulk length \(length) is negative (and not -1)") }
            guard length <= limits.maximumBulkBytes else { throw RESPError.replyTooLarge(bytes: length, limit: limits.maximumBulkBytes) }
            let count = Int(length)
            guard probe.readableBytes >= count + 2 else { return nil }  // count <= maximumBulkBytes: no overflow
            guard let bulk = probe.readSlice(length: count) else { return nil }
            guard probe.readInteger(as: UInt8.self) == 13, probe.readInteger(as: UInt8.self) == 10 else {
                throw RESPError.protocolViolation("bulk of \(count) bytes is not followed by CRLF")
            }
            buffer = probe
            return .bulk(bulk)
        case UInt8(ascii: "*"):
            var probe = buffer
            probe.moveReaderIndex(forwardBy: 1)
            guard let line = try line(&probe) else { return nil }
            let count = try integer(line, what: "array length")
            if count == -1 {
                buffer = probe
                return .null
            }
            guard count >= 0, count <= limits.maximumArrayElements else {
                throw RESPError.protocolViolation("array length \(count) is outside 0...\(limits.maximumArrayElements) (or -1)")
            }
            guard depth < limits.maximumDepth else {
                throw RESPError.protocolViolation("arrays nested deeper than \(limits.maximumDepth)")
            }
            var elements: [RESPValue] = []  // not reserved from `count`: elements are appended as their bytes arrive
            for _ in 0..<Int(count) {
                guard let element = try value(&probe, depth: depth + 1) else { return nil }
                elements.append(element)
            }
            buffer = probe
            return .array(elements)
        default:
            throw RESPError.protocolViolation("unknown reply type byte 0x\(String(type, radix: 16))")
        }
    }

    /// The text up to the next CRLF (consumed), or nil when no CRLF has arrived within the line limit yet.
    private func line(_ buffer: inout ByteBuffer) throws -> String? {
        let view = buffer.readableBytesView
        let window = view.prefix(limits.maximumLineBytes + 2)
        guard let newline = window.firstIndex(of: 10) else {
            if view.count > limits.maximumLineBytes + 1 {
                throw RESPError.protocolViolation("a line runs past \(limits.maximumLineBytes) bytes without CRLF")
            }
            return nil
        }
        let length = newline - view.startIndex
        guard length >= 1, view[newline - 1] == 13 else { throw RESPError.protocolViolation("a line ends in LF without CR") }
        guard let text = buffer.readString(length: length - 1) else { return nil }
        buffer.moveReaderIndex(forwardBy: 2)
        guard !text.utf8.contains(13) else { throw RESPError.protocolViolation("a line holds a bare CR") }
        return text
    }

    /// A decimal integer: an optional `-` and 1-19 digits that fit in Int64.
    private func integer(_ text: String, what: String) throws -> Int64 {
        let bytes = Array(text.utf8)
        let negative = bytes.first == UInt8(ascii: "-")
        let digits = negative ? bytes.dropFirst() : bytes[...]
        guard !digits.isEmpty, digits.count <= 19, digits.allSatisfy({ (48...57).contains($0) }) else {
            throw RESPError.protocolViolation("\(what) '\(text.prefix(32))' is not a decimal integer")
        }
        var value: Int64 = 0
        for digit in digits {
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(digit - 48))
            guard !overflow1, !overflow2 else { throw RESPError.protocolViolation("\(what) '\(text.prefix(32))' overflows Int64") }
            value = sum
        }
        return negative ? -value : value
    }
}
