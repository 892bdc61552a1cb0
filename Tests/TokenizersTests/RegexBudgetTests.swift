import Foundation
import Testing
@testable import Tokenizers

/// Split patterns cannot hang the tokenizer: nested repetitions are refused at load, and whatever still
/// backtracks too long stops at a work budget (issue 8: `(a+)+$` hung on a 120-character prompt).
@Suite struct RegexBudgetTests {
    static let gpt2 = ByteLevelPreTokenizer.gpt2Pattern
    static let llama3 = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2 = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    @Test(arguments: [
        "(a+)+", "(a+)+$", "(a*)*", "(?:x\\d*)*", "(a{2,5}){3}", "((ab)+c)+", "(x(a|b+)y)*", "(?<name>a+){2,}", "(a+?)+",
    ])
    func nestedRepetitionIsRefused(_ pattern: String) throws {
        let error = try #require(throws: TokenizerError.self) {
            try RegexBudget.checkNestedRepetition(pattern, field: "pre_tokenizer.pattern")
        }
        #expect(error.description.contains("pre_tokenizer.pattern: the repeated group"), "\(error)")
    }

    @Test(arguments: [
        gpt2, llama3, qwen2,
        "(a+)?", "(?:ab)+", "[(a+)]+", "\\(a+\\)+", "\\Q(a+)\\E+", "(a){1}", "\\p{N}{1,3}", "(?i)a+", "(?:a|b)+", "[[a-z]&&[^(]]+(b+)",
    ])
    func singleRepetitionIsAccepted(_ pattern: String) throws {
        try RegexBudget.checkNestedRepetition(pattern, field: "pre_tokenizer.pattern")
        _ = try Pattern.regex(pattern).compile(field: "pre_tokenizer.pattern")
    }

    /// Real split patterns finish well inside the budget on long text, so the budget never changes their pieces.
    @Test(arguments: [gpt2, llama3, qwen2])
    func realPatternsFinishWithinBudget(_ pattern: String) throws {
        let regex = try Pattern.regex(pattern).compile(field: "pattern")
        let sentence = "It's 1,234.56 dollars — they'll say \"ça va?\"\n\n\t  said   Ahab 🐳 in 1851...\r\n"
        let text = String(repeating: sentence, count: 2_000) + String(repeating: " ", count: 50_000) + "x"
        let (ranges, finished) = regex.matchRanges(in: text)
        #expect(finished)
        #expect(ranges.count > 2_000 * 10)
        #expect(ranges.last?.upperBound == text.endIndex)
    }

    /// A pattern that slips past the load check still stops: the rest of the piece stays one gap.
    @Test(.timeLimit(.minutes(1)))
    func backtrackingPatternStopsAtTheBudget() throws {
        let regex = try Pattern.regex("(a|a)+$").compile(field: "pattern")
        let text = String(repeating: "a", count: 120) + "b"
        let (ranges, finished) = regex.matchRanges(in: text)
        #expect(!finished)
        #expect(ranges.isEmpty)
    }

    /// Encoding through such a pattern ends and keeps every byte of the text.
    @Test(.timeLimit(.minutes(1)))
    func encodingWithABacktrackingSplitEnds() throws {
        let tokenizer = try BPETokenizer(json: try TinyTokenizer.split("(a|a)+$"))
        let text = String(repeating: "a", count: 120) + "b"
        let ids = tokenizer.encode(text, addSpecialTokens: false)
        #expect(ids.count == 120)  // 119 `a` and one merged `ab`
        #expect(tokenizer.decode(ids, skipSpecialTokens: true) == text)
    }
}
