/// Decodes generated tokens one at a time into text without ever splitting a UTF-8 character:
/// bytes of an unfinished character wait for the next token.
public struct StreamingDecoder {
    private let tokenizer: any Tokenizer
    private var pending: [UInt8] = []
    private var state = DecodeState()
    private let skipSpecialTokens: Bool

    /// - atStart: whether the tokens begin the text (a SentencePiece decoder then drops the leading space);
    ///   false for a continuation of a prompt.
    public init(tokenizer: any Tokenizer, atStart: Bool = false, skipSpecialTokens: Bool = true) {
        self.tokenizer = tokenizer
        if !atStart { state.outputAny = true }
        self.skipSpecialTokens = skipSpecialTokens
    }

    /// Text that `id` completes (may be empty while a character is incomplete).
    public mutating func append(_ id: Int) -> String {
        pending += tokenizer.bytes(of: id, state: &state, skipSpecialTokens: skipSpecialTokens)
        let complete = Self.completePrefixLength(pending)
        guard complete > 0 else { return "" }
        let text = String(decoding: pending[..<complete], as: UTF8.self)
        pending.removeFirst(complete)
        return text
    }

    /// Whatever is still pending (an incomplete character becomes U+FFFD).
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return pending.isEmpty ? "" : String(decoding: pending, as: UTF8.self)
    }

    /// Length of the longest prefix that does not end inside a multi-byte character.
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        var start = bytes.count
        // Walk back over at most 3 continuation bytes to the last lead byte.
        var back = 0
        while start > 0, back < 4, bytes[start - 1] & 0xC0 == 0x80 {
            start -= 1
            back += 1
        }
        guard start > 0 else { return bytes.count > 3 ? bytes.count : 0 }
        let lead = bytes[start - 1]
        let needed: Int
        switch lead {
        case 0xC0...0xDF: needed = 2
        case 0xE0...0xEF: needed = 3
        case 0xF0...0xF7: needed = 4
        default: return bytes.count  // ASCII or an invalid lead: nothing to wait for
        }
        let have = bytes.count - (start - 1)
        return have >= needed ? bytes.count : start - 1
    }
}
