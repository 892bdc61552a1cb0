import Foundation
import Testing
@testable import LoadGenerator

/// The SSE parser gives the same events however the bytes are split, in every line-ending style.
@Suite struct ServerSentEventTests {
    /// A stream as reanchor serve sends it (two tokens, the finish chunk, the usage chunk, [DONE]).
    static let stream = """
        data: {"choices":[{"text":"Once","index":0,"logprobs":null,"finish_reason":null}],"object":"text_completion"}

        data: {"choices":[{"text":" upon","index":0,"logprobs":null,"finish_reason":null}],"object":"text_completion"}

        data: {"choices":[{"text":"","index":0,"logprobs":null,"finish_reason":"length"}],"object":"text_completion"}

        data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}

        data: [DONE]


        """

    static func parseAll(_ bytes: [UInt8], splits: [Int]) throws -> [String] {
        var parser = ServerSentEventParser()
        var events: [String] = []
        var start = 0
        for end in splits + [bytes.count] where end >= start {
            events += try parser.feed(bytes[start..<end])
            start = end
        }
        #expect(!parser.isInsideEvent)
        return events
    }

    @Test func everySplitGivesTheSameEvents() throws {
        let bytes = Array(Self.stream.utf8)
        let whole = try Self.parseAll(bytes, splits: [])
        #expect(whole.count == 5)
        #expect(whole.last == "[DONE]")
        #expect(whole[0].hasPrefix("{\"choices\":[{\"text\":\"Once\""))
        for split in 0...bytes.count {
            #expect(try Self.parseAll(bytes, splits: [split]) == whole, "split at \(split)")
        }
        // One byte at a time.
        #expect(try Self.parseAll(bytes, splits: Array(0...bytes.count)) == whole)
    }

    @Test(arguments: ["\r\n", "\r"])
    func otherLineEndingsGiveTheSameEvents(ending: String) throws {
        let converted = Array(Self.stream.replacingOccurrences(of: "\n", with: ending).utf8)
        let expected = try Self.parseAll(Array(Self.stream.utf8), splits: [])
        for split in 0...converted.count {
            #expect(try Self.parseAll(converted, splits: [split]) == expected, "split at \(split)")
        }
    }

    @Test func commentsOtherFieldsAndMultilineData() throws {
        var parser = ServerSentEventParser()
        let text = ": keep-alive\nevent: message\nid: 7\ndata: first\ndata:second\ndata\n\nretry: 10\n\n"
        #expect(try parser.feed(Array(text.utf8)) == ["first\nsecond\n"])
    }

    @Test func aStreamEndingInsideAnEventIsIncomplete() throws {
        var parser = ServerSentEventParser()
        #expect(try parser.feed(Array("data: {\"a\":1}\n\ndata: {\"b\"".utf8)) == ["{\"a\":1}"])
        #expect(parser.isInsideEvent)
        var ended = ServerSentEventParser()
        _ = try ended.feed(Array("data: x\n".utf8))
        #expect(ended.isInsideEvent, "a data line without the blank line ending its event")
    }

    @Test func anOverlongLineIsAnError() throws {
        var parser = ServerSentEventParser(maximumLineBytes: 16)
        #expect(throws: ServerSentEventError.lineTooLong(limit: 16)) {
            _ = try parser.feed(Array("data: 0123456789abcdef\n\n".utf8))
        }
        var fits = ServerSentEventParser(maximumLineBytes: 16)
        #expect(try fits.feed(Array("data: 0123456789\n\n".utf8)) == ["0123456789"])
    }
}
