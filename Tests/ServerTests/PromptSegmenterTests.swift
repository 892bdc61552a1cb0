import Engine
import Server
import Templates
import Testing
import Tokenizers

/// Transparent reuse's boundary rule, on rendered texts of the plain fallback and ChatML, and on the tokens.
struct PromptSegmenterTests {
    @Test func plainTemplateCutsAtContentsAndBlankLines() {
        let text = "<|begin_of_text|>System: Answer briefly.\n\nUser: First passage.\n\nSecond passage.\n\nWho?\n\nAssistant:"
        let segments = PromptSegmenter.segments(of: text, contents: ["Answer briefly.", "First passage.\n\nSecond passage.\n\nWho?"],
                                                firstIsContent: false)
        #expect(segments == ["<|begin_of_text|>System: ", "Answer briefly.", "\n\nUser: ", "First passage.", "\n\n", "Second passage.",
                             "\n\n", "Who?\n\nAssistant:"])
    }

    @Test func chatMLCutsAndTheQueryIsTheLastParagraphOfTheLastMessage() {
        let text = "<|im_start|>user\nA.\n\nB.<|im_end|>\n<|im_start|>assistant\nYes.<|im_end|>\n<|im_start|>user\nC.\n\n\nAnd D?<|im_end|>\n<|im_start|>assistant\n"
        let segments = PromptSegmenter.segments(of: text, contents: ["A.\n\nB.", "Yes.", "C.\n\n\nAnd D?"], firstIsContent: false)
        #expect(segments == ["<|im_start|>user\n", "A.", "\n\n", "B.", "<|im_end|>\n<|im_start|>assistant\n", "Yes.",
                             "<|im_end|>\n<|im_start|>user\n", "C.", "\n\n\n", "And D?<|im_end|>\n<|im_start|>assistant\n"])
        #expect(segments.joined() == text)
    }

    @Test func aContentTheTemplateChangedIsNotCut() {
        let text = "[INST] SHOUTED [/INST]"
        #expect(PromptSegmenter.segments(of: text, contents: ["shouted"], firstIsContent: false) == [Substring(text)])
    }

    @Test func aCompletionPromptHasAnEmptyPrefix() {
        let segments = PromptSegmenter.segments(of: "One.\n\nTwo.\n\nThree?", contents: ["One.\n\nTwo.\n\nThree?"], firstIsContent: true)
        #expect(segments == ["", "One.", "\n\n", "Two.", "\n\n", "Three?"])
    }

    @Test func passagesHaveTheSameTokensInAnyOrderAndShortPromptsAreNotSegmented() throws {
        let tokenizer = try BPETokenizer(contentsOf: ServerHarness.modelDirectory.appendingPathComponent("tokenizer.json"))
        let segmenter = PromptSegmenter(tokenizer: tokenizer)
        let passages = ["The lighthouse keeper climbed the stairs.", "The baker rose before the sun."]
        let forward = try #require(segmenter.segment(completion: passages.joined(separator: "\n\n") + "\n\nWho rose early?"))
        let backward = try #require(segmenter.segment(completion: passages.reversed().joined(separator: "\n\n") + "\n\nWho rose early?"))
        #expect(forward.prefix == tokenizer.encode("", addSpecialTokens: true))
        #expect(forward.chunks.count == 4, "two passages, each followed by a blank line")
        #expect(forward.chunks == backward.chunks.pairsReversed())
        #expect(forward.query == backward.query)
        #expect(tokenizer.decode(forward.tokens) == tokenizer.decode(tokenizer.encode(passages.joined(separator: "\n\n") + "\n\nWho rose early?")),
                "the segmented ids spell the same text")
        #expect(segmenter.segment(completion: "No paragraphs at all") == nil)
    }

    @Test func turnsStartAtTheEndOfThePreviousContent() throws {
        let tokenizer = try BPETokenizer(contentsOf: ServerHarness.modelDirectory.appendingPathComponent("tokenizer.json"))
        let messages = [ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "Tell me of the ship."),
                        ChatMessage(role: "assistant", content: "It sailed north."), ChatMessage(role: "user", content: "And then?")]
        let text = try ChatTemplate.plain.render(messages: messages, addGenerationPrompt: true, bosToken: "<|begin_of_text|>")
        let segmented = try #require(PromptSegmenter(tokenizer: tokenizer).segment(chat: text, messages: messages))
        let tokens = segmented.layout.tokens
        #expect(segmented.turnStarts.count == 3)
        let glue = segmented.turnStarts.map { tokenizer.decode(Array(tokens[$0...].prefix(8)), skipSpecialTokens: false) }
        #expect(glue.count == 3 && glue[0].hasPrefix("\n\nUser:") && glue[1].hasPrefix("\n\nAssistant:") && glue[2].hasPrefix("\n\nUser:"),
                "\(glue)")
        #expect(tokenizer.decode(tokens, skipSpecialTokens: false) == text)
    }
}

extension Array where Element == [Int] {
    /// Pairs (passage, blank line) in reverse order.
    fileprivate func pairsReversed() -> [[Int]] {
        stride(from: count - 2, through: 0, by: -2).flatMap { [self[$0], self[$0 + 1]] }
    }
}
