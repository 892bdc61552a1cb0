import Tokenizers

/// Splits a document's text into chunks of at most `maximumTokens` tokens at paragraph boundaries.
///
/// Paragraphs are runs of non-blank lines (a line of only whitespace separates them). Consecutive paragraphs
/// are packed into one chunk, joined by one blank line, while the chunk's text tokenizes (on its own, without
/// special tokens) to at most `maximumTokens`; a single paragraph longer than that is cut into pieces of
/// `maximumTokens` tokens. Each chunk's token ids are those of its text alone, as they are looked up later.
public struct TextChunker: Sendable {
    public let tokenizer: BPETokenizer
    public let maximumTokens: Int

    public init(tokenizer: BPETokenizer, maximumTokens: Int) {
        self.tokenizer = tokenizer
        self.maximumTokens = maximumTokens
    }

    /// The chunks' token ids, in order; empty when the text holds no paragraph.
    public func chunks(of text: String) -> [[Int]] {
        var chunks: [[Int]] = []
        var current: [String] = []
        var currentTokens: [Int] = []
        for paragraph in Self.paragraphs(of: text) {
            let joined = tokenizer.encode((current + [paragraph]).joined(separator: "\n\n"), addSpecialTokens: false, continuing: true)
            if joined.count <= maximumTokens {
                current.append(paragraph)
                currentTokens = joined
                continue
            }
            if !currentTokens.isEmpty { chunks.append(currentTokens) }
            let alone = tokenizer.encode(paragraph, addSpecialTokens: false, continuing: true)
            if alone.count <= maximumTokens {
                current = [paragraph]
                currentTokens = alone
            } else {
                chunks += stride(from: 0, to: alone.count, by: maximumTokens).map { Array(alone[$0..<min($0 + maximumTokens, alone.count)]) }
                current = []
                currentTokens = []
            }
        }
        if !currentTokens.isEmpty { chunks.append(currentTokens) }
        return chunks
    }

    /// Runs of non-blank lines, each joined by `\n` (`\r\n` counts as `\n`).
    public static func paragraphs(of text: String) -> [String] {
        var paragraphs: [String] = []
        var lines: [Substring] = []
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            if line.allSatisfy(\.isWhitespace) {
                if !lines.isEmpty { paragraphs.append(lines.joined(separator: "\n")) }
                lines = []
            } else {
                lines.append(line)
            }
        }
        if !lines.isEmpty { paragraphs.append(lines.joined(separator: "\n")) }
        return paragraphs
    }
}
