import Foundation
import Testing
import TestSupport
@testable import Tokenizers

/// Tokens that differ only in Unicode normalisation are different tokens (Swift's String would call them equal).
@Suite struct ExactTokenTests {
    /// ί with tonos (U+03AF) and with oxia (U+1F77) are canonically equivalent, and separate Llama 2 tokens.
    @Test func canonicallyEquivalentTokensKeepTheirOwnIDs() throws {
        // Written out: a Swift dictionary literal cannot even hold both keys. No pre-tokenizer, so the
        // scalars reach the vocabulary as they are.
        let json = #"{"model": {"type": "BPE", "vocab": {"a": 0, "\#u{03AF}": 1, "\#u{1F77}": 2}, "merges": []}}"#
        #expect(json.unicodeScalars.contains("\u{1F77}") && json.unicodeScalars.contains("\u{03AF}"))
        let tokenizer = try BPETokenizer(json: Data(json.utf8))
        #expect(tokenizer.id(of: "\u{03AF}") == 1)
        #expect(tokenizer.id(of: "\u{1F77}") == 2)
        #expect(tokenizer.encode("\u{03AF}\u{1F77}a", addSpecialTokens: false) == [1, 2, 0])
        #expect(tokenizer.decode([2, 1], skipSpecialTokens: false).unicodeScalars.map(\.value) == [0x1F77, 0x03AF])
        #expect(tokenizer.vocabularySize == 3)
    }

    @Test func mergeLinesSplitOnTheSpaceScalar() throws {
        // "e \u{301}" is two Characters ("e", " \u{301}"), so a Character search finds no space.
        let data = try TinyTokenizer.json({ $0["added_tokens"] = []; $0["post_processor"] = nil; $0["pre_tokenizer"] = nil; $0["decoder"] = nil },
                                          model: {
            $0["vocab"] = ["e": 0, "\u{301}": 1, "e\u{301}": 2]
            $0["merges"] = ["e \u{301}"]
        })
        let tokenizer = try BPETokenizer(json: data)
        #expect(tokenizer.encode("e\u{301}", addSpecialTokens: false) == [2])
    }

    @Test func rawVocabularyDecodesEscapesExactly() throws {
        let json = #"{"model": {"x": [1, {"vocab": 5}], "vocab": {"a\u00e9\ud83d\udc33\n\"": 0, "\u0065\u0301": -3, "t": 1.5, "u": true, "v": {"w": [1]}, "z": 12}}, "vocab": {"q": 1}}"#
        let entries = try #require(RawVocabulary.entries(in: Array(json.utf8)))
        #expect(entries.map(\.token) == ["aé🐳\n\"", "e\u{301}", "t", "u", "v", "z"])
        #expect(entries[1].token.unicodeScalars.count == 2)
        #expect(entries.map(\.value) == [.integer(0), .integer(-3), .other("1.5"), .other("true"), .other(#"{"w": [1]}"#), .integer(12)])
    }

    @Test(.enabled(if: Locations.shared != nil, "../shared is absent: the Llama-2 tokenizer lives there"))
    func llama2GreekTonosAndOxia() throws {
        let shared = try #require(Locations.shared)
        let tokenizer = try BPETokenizer(contentsOf: shared.appendingPathComponent("models/llama2-tokenizer/tokenizer.json"))
        #expect(tokenizer.encode("\u{03AF}", addSpecialTokens: false) == [29871, 30207])
        #expect(tokenizer.encode("\u{1F77}", addSpecialTokens: false) == [29871, 30873])
        #expect(tokenizer.vocabularySize == 32_000)
    }
}
