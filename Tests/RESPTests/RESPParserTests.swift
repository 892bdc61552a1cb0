import NIOCore
import Testing
@testable import RESP

/// Replies are parsed whole or not at all, and nothing a server sends can trap or claim unbounded memory.
@Suite struct RESPParserTests {
    func parse(_ text: String, limits: RESPLimits = .standard) throws -> (RESPValue?, remaining: Int) {
        var buffer = ByteBuffer(string: text)
        let value = try RESPParser(limits: limits).parse(&buffer)
        return (value, buffer.readableBytes)
    }

    func violation(_ text: String, limits: RESPLimits = .standard) -> String? {
        do {
            _ = try parse(text, limits: limits)
            return nil
        } catch let error as RESPError {
            if case .protocolViolation(let reason) = error { return reason }
            return "\(error)"
        } catch {
            return "\(error)"
        }
    }

    @Test func everyReplyTypeParses() throws {
        #expect(try parse("+OK\r\n").0 == .simple("OK"))
        #expect(try parse("-ERR wrong\r\n").0 == .error("ERR wrong"))
        #expect(try parse(":-42\r\n").0 == .integer(-42))
        #expect(try parse("$3\r\na\r\n\r\n").0 == .bulk(ByteBuffer(string: "a\r\n")))
        #expect(try parse("$0\r\n\r\n").0 == .bulk(ByteBuffer()))
        #expect(try parse("$-1\r\n").0 == .null)
        #expect(try parse("*-1\r\n").0 == .null)
        #expect(try parse("*2\r\n$1\r\nx\r\n*1\r\n:7\r\n").0 == .array([.bulk(ByteBuffer(string: "x")), .array([.integer(7)])]))
    }

    @Test func incompleteRepliesLeaveTheBufferUntouched() throws {
        let whole = "*2\r\n$5\r\nhello\r\n:12\r\n+next\r\n"
        for cut in 0..<(whole.utf8.count - "+next\r\n".utf8.count) {
            let (value, remaining) = try parse(String(decoding: whole.utf8.prefix(cut), as: UTF8.self))
            #expect(value == nil, "cut at \(cut)")
            #expect(remaining == cut)
        }
        let (value, remaining) = try parse(whole)
        #expect(value == .array([.bulk(ByteBuffer(string: "hello")), .integer(12)]))
        #expect(remaining == "+next\r\n".utf8.count)
    }

    @Test func malformedRepliesAreViolationsNamingTheProblem() {
        #expect(violation("?what\r\n")?.contains("unknown reply type byte 0x3f") == true)
        #expect(violation(":12a\r\n")?.contains("not a decimal integer") == true)
        #expect(violation(":\r\n")?.contains("not a decimal integer") == true)
        #expect(violation(":99999999999999999999\r\n")?.contains("not a decimal integer") == true)
        #expect(violation(":9999999999999999999\r\n")?.contains("overflows") == true)
        #expect(violation("$-2\r\n")?.contains("bulk length -2 is negative") == true)
        #expect(violation("$3\r\nabcXY")?.contains("not followed by CRLF") == true)
        #expect(violation("*-5\r\n")?.contains("array length -5") == true)
        #expect(violation("+OK\n")?.contains("LF without CR") == true)
    }

    @Test func claimedSizesAboveTheLimitsAreRefusedBeforeWaitingForThem() {
        var limits = RESPLimits()
        limits.maximumBulkBytes = 1000
        limits.maximumArrayElements = 10
        limits.maximumDepth = 2
        limits.maximumLineBytes = 32
        // A claim of 1 GB is refused at once, not awaited and buffered.
        #expect(violation("$1000000000\r\n", limits: limits) == "\(RESPError.replyTooLarge(bytes: 1_000_000_000, limit: 1000))")
        #expect(violation("$9223372036854775807\r\n", limits: limits)?.contains("above the limit of 1000") == true)
        #expect(violation("*11\r\n", limits: limits)?.contains("array length 11") == true)
        #expect(violation("*1\r\n*1\r\n*1\r\n:1\r\n", limits: limits)?.contains("nested deeper than 2") == true)
        #expect(violation("+" + String(repeating: "a", count: 40), limits: limits)?.contains("runs past 32 bytes") == true)
    }

    @Test func randomBytesNeverTrap() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("+-:$*\r\n0123456789-abc".utf8)
        for _ in 0..<5000 {
            let length = Int.random(in: 0..<40, using: &generator)
            var buffer = ByteBuffer(bytes: (0..<length).map { _ in alphabet.randomElement(using: &generator) ?? 0 })
            _ = try? RESPParser().parse(&buffer)
        }
    }

    @Test func commandsEncodeAsArraysOfBulkStrings() {
        var buffer = ByteBuffer()
        RESPCommand([ByteBuffer(string: "SET"), ByteBuffer(string: "k"), ByteBuffer(bytes: [0, 13, 10])]).encode(into: &buffer)
        #expect(String(buffer: buffer) == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\n\u{0}\r\n\r\n")
    }
}
