import Engine
import Foundation
import Templates
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

    public init(tokenizer: BPETokenizer) { self.tokenizer = tokenizer }

    /// A segmented prompt: its layout, and where each chat turn starts in its tokens.
    public struct Segmented: Sendable {
        public var layout: RAGPrompt
        /// Ascending offsets in `layout.tokens` where each turn after the leading system messages starts: at the
        /// end of the previous message's content, so dropping whole turns keeps a well-formed conversation.
        public var turnStarts: [Int]
    }

    /// The chat prompt's segments as prefix / chunks / query, or nil when it has no chunk. `text` is the
    /// rendered conversation (its special tokens written by the template, so nothing is added).
    public func segment(chat text: String, messages: [ChatMessage]) -> Segmented? {
        let plan = Self.plan(of: text, contents: messages.map { $0.content ?? "" }, firstIsContent: false)
        let firstTurn = messages.firstIndex { $0.role != "system" } ?? messages.count
        let boundaries = (max(firstTurn, 1)..<max(messages.count, 1)).compactMap { plan.contentEnds[$0 - 1] }
        return prompt(plan.segments, addSpecialTokens: false, boundaries: boundaries)
    }

    /// A completion prompt: BOS (the tokenizer's own special tokens) is the prefix; the text's paragraphs are
    /// the chunks and its last paragraph the query.
    public func segment(completion text: String) -> RAGPrompt? {
        prompt(Self.plan(of: text, contents: [text], firstIsContent: true).segments, addSpecialTokens: true, boundaries: [])?.layout
    }

    /// The layout of `segments` (and the token offsets of the segments starting at `boundaries`), or nil
    /// without a chunk or a query.
    private func prompt(_ segments: [Substring], addSpecialTokens: Bool, boundaries: [String.Index]) -> Segmented? {
        guard segments.count >= 3, let first = segments.first, let last = segments.last else { return nil }
        let prefix = tokenizer.encode(String(first), addSpecialTokens: addSpecialTokens, continuing: false)
        let middle = segments.dropFirst().dropLast().map { tokenizer.encode(String($0), addSpecialTokens: false, continuing: true) }
        let query = tokenizer.encode(String(last), addSpecialTokens: false, continuing: true)
        let chunks = middle.filter { !$0.isEmpty }
        guard !query.isEmpty, !chunks.isEmpty else { return nil }
        var offsets: [String.Index: Int] = [:]
        var offset = prefix.count
        for (segment, tokens) in zip(segments.dropFirst(), middle + [query]) {
            offsets[segment.startIndex] = offset
            offset += tokens.count
        }
        var turnStarts: [Int] = []
        for boundary in boundaries {
            if let start = offsets[boundary], start > (turnStarts.last ?? 0) { turnStarts.append(start) }
        }
        return Segmented(layout: RAGPrompt(prefix: prefix, chunks: chunks, query: query), turnStarts: turnStarts)
    }

    /// `text` cut as the type's documentation says; `firstIsContent`: the text starts with a content (a
    /// completion prompt), so its start is the prefix's end (an empty prefix).
    public static func segments(of text: String, contents: [String], firstIsContent: Bool) -> [Substring] {
        plan(of: text, contents: contents, firstIsContent: firstIsContent).segments
    }

    /// The segments, and where each content ends in `text` (nil when the template changed it).
    private static func plan(of text: String, contents: [String], firstIsContent: Bool)
        -> (segments: [Substring], contentEnds: [String.Index?]) {
        var cuts: [String.Index] = firstIsContent ? [text.startIndex] : []
        var contentEnds: [String.Index?] = []
        var cursor = text.startIndex
        var lastParagraph: String.Index?
        for content in contents {
            guard let found = locate(content, in: text, from: cursor) else {
                contentEnds.append(nil)
                continue
            }
            cuts.append(found.lowerBound)
            lastParagraph = found.lowerBound
            for blank in blankLines(in: text[found]) {
                cuts += [blank.lowerBound, blank.upperBound]
                lastParagraph = blank.upperBound
            }
            cuts.append(found.upperBound)
            contentEnds.append(found.upperBound)
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
        return (segments, contentEnds)
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
