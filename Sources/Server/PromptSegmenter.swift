import Engine
import Foundation
import Tokenizers

/// Transparent reuse: cuts a prompt's text into segments that are tokenized on their own, so that a passage
/// pasted into a message has the same token ids (and so the same library entry) wherever it lands.
///
/// The boundary rule. The text is cut at the start and at the end of every message's content (where the
/// rendered template holds it verbatim or trimmed), and inside contents before and after every run of two or
/// more line feeds (a blank line): a paragraph is a segment of its own, without the line feeds around it, so
/// its ids are those of the same paragraph ingested as a document chunk (`/v1/documents`), and the blank line
/// between paragraphs is a small segment that hits in every prompt. The first segment (template
/// header, BOS) is the prompt's prefix; the last, from the start of the last message's last paragraph to the
/// end (with the generation prompt), is the query; every segment between them is a chunk, reused from the
/// library by content address. For a completion prompt the whole text is the one content.
///
/// The effect on token ids: each segment is encoded as if the text before it had ended there, so a BPE merge
/// across a cut (line feeds with the word after them, say) does not happen, and a
/// SentencePiece tokenizer does not mark a segment's start as the text's start (`continuing`). The ids
/// therefore differ slightly from encoding the whole text at once, the same way in every request, which is
/// what makes a passage hit in any order. `prompt_tokens` counts the segmented ids.
public struct PromptSegmenter: Sendable {
    public let tokenizer: BPETokenizer
    /// Chunk tokens a prompt needs before it is worth composing (fewer: the prompt is encoded whole).
    public let minimumChunkTokens: Int

    public init(tokenizer: BPETokenizer, minimumChunkTokens: Int) {
        self.tokenizer = tokenizer
        self.minimumChunkTokens = minimumChunkTokens
    }

    /// The chat prompt's segments as prefix / chunks / query, or nil when it has no chunk (or too few chunk
    /// tokens) to reuse. `text` is the rendered conversation (its special tokens written by the template, so
    /// nothing is added); `contents` the messages' contents in order.
    public func segment(chat text: String, contents: [String]) -> RAGPrompt? {
        prompt(Self.segments(of: text, contents: contents, firstIsContent: false), addSpecialTokens: false)
    }

    /// A completion prompt: BOS (the tokenizer's own special tokens) is the prefix; the text's paragraphs are
    /// the chunks and its last paragraph the query.
    public func segment(completion text: String) -> RAGPrompt? {
        prompt(Self.segments(of: text, contents: [text], firstIsContent: true), addSpecialTokens: true)
    }

    private func prompt(_ segments: [Substring], addSpecialTokens: Bool) -> RAGPrompt? {
        guard segments.count >= 3, let first = segments.first, let last = segments.last else { return nil }
        let prefix = tokenizer.encode(String(first), addSpecialTokens: addSpecialTokens, continuing: false)
        let chunks = segments.dropFirst().dropLast()
            .map { tokenizer.encode(String($0), addSpecialTokens: false, continuing: true) }
            .filter { !$0.isEmpty }
        let query = tokenizer.encode(String(last), addSpecialTokens: false, continuing: true)
        guard !query.isEmpty, !chunks.isEmpty, chunks.reduce(0, { $0 + $1.count }) >= minimumChunkTokens else { return nil }
        return RAGPrompt(prefix: prefix, chunks: chunks, query: query)
    }

    /// `text` cut as the type's documentation says; `firstIsContent`: the text starts with a content (a
    /// completion prompt), so its start is the prefix's end (an empty prefix).
    public static func segments(of text: String, contents: [String], firstIsContent: Bool) -> [Substring] {
        var cuts: [String.Index] = firstIsContent ? [text.startIndex] : []
        var cursor = text.startIndex
        var lastParagraph: String.Index?
        for content in contents {
            guard let found = locate(content, in: text, from: cursor) else { continue }
            cuts.append(found.lowerBound)
            lastParagraph = found.lowerBound
            for blank in blankLines(in: text[found]) {
                cuts += [blank.lowerBound, blank.upperBound]
                lastParagraph = blank.upperBound
            }
            cuts.append(found.upperBound)
            cursor = found.upperBound
        }
        // The query starts at the last paragraph of the last content found: no cut after it.
        if let lastParagraph { cuts.removeAll { $0 > lastParagraph } }
        var segments: [Substring] = []
        var start = text.startIndex
        for cut in cuts where cut >= start {
            if cut > start || segments.isEmpty { segments.append(text[start..<cut]) }
            start = cut
        }
        segments.append(text[start...])
        return segments
    }

    /// Where `content` sits in `text` at or after `from`: verbatim, else trimmed of surrounding whitespace
    /// (templates such as the plain fallback trim); nil when the template changed it or it is blank.
    private static func locate(_ content: String, in text: String, from: String.Index) -> Range<String.Index>? {
        for needle in [content, content.trimmingCharacters(in: .whitespacesAndNewlines)] where !needle.isEmpty {
            if let found = text.range(of: needle, options: .literal, range: from..<text.endIndex) { return found }
        }
        return nil
    }

    /// Each run of two or more line feeds inside `content` that ends before its end.
    private static func blankLines(in content: Substring) -> [Range<String.Index>] {
        var runs: [Range<String.Index>] = []
        var index = content.startIndex
        while index < content.endIndex {
            guard content[index] == "\n" else {
                index = content.index(after: index)
                continue
            }
            var end = index
            var feeds = 0
            while end < content.endIndex, content[end] == "\n" {
                feeds += 1
                end = content.index(after: end)
            }
            if feeds >= 2, end < content.endIndex { runs.append(index..<end) }
            index = end
        }
        return runs
    }
}
