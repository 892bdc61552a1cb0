import Foundation
import Testing
@testable import Tokenizers

/// A tokenizer.json with one bad field, and the words its error must contain.
struct BadTokenizer: Sendable, CustomTestStringConvertible {
    let name: String
    let json: @Sendable () throws -> Data
    let expected: [String]
    var testDescription: String { name }

    /// - root: edits the whole object (the trailing closure); model: edits `model`.
    init(_ name: String, expected: [String], root: @escaping @Sendable (inout [String: Any]) -> Void = { _ in },
         model: @escaping @Sendable (inout [String: Any]) -> Void = { _ in }) {
        self.name = name
        self.expected = expected
        json = { try TinyTokenizer.json(root, model: model) }
    }

    init(_ name: String, expected: [String], json: @escaping @Sendable () throws -> Data) {
        self.name = name
        self.expected = expected
        self.json = json
    }
}

/// Bad ids and tables in tokenizer.json are errors that name the field, never a trap or a huge allocation
/// (issue 8, "Found by running crafted inputs").
@Suite struct TokenizerValidationTests {
    @Test func tinyTokenizerLoadsAndEncodes() throws {
        let tokenizer = try BPETokenizer(json: try TinyTokenizer.json())
        #expect(tokenizer.vocabularySize == 6)
        #expect(tokenizer.encode("ab c", addSpecialTokens: true) == [5, 4, 3, 2])
        #expect(tokenizer.encode("<s>ab", addSpecialTokens: false) == [5, 4])
        #expect(tokenizer.decode([5, 4, 3, 2], skipSpecialTokens: true) == "ab c")
    }

    static let badInputs: [BadTokenizer] = [
        BadTokenizer("negative added-token id", expected: ["tokenizer.json: added_tokens[0].id:", "id -5", "'<s>'"]) {
            $0["added_tokens"] = [["id": -5, "content": "<s>", "special": true]]
        },
        BadTokenizer("vocab id 10^12 used in a merge", expected: ["tokenizer.json: model.vocab:", "id 1000000000000 for 'b'", "[0, 6)"], model: {
            $0["vocab"] = ["a": 0, "b": 1_000_000_000_000, "c": 2, "Ġ": 3, "ab": 4]
        }),
        BadTokenizer("added-token id 10^12", expected: ["added_tokens[0].id:", "id 1000000000000"]) {
            $0["added_tokens"] = [["id": 1_000_000_000_000, "content": "<s>", "special": true]]
        },
        BadTokenizer("vocab id 5*10^8", expected: ["model.vocab:", "id 500000000 for 'c'"], model: {
            $0["vocab"] = ["a": 0, "b": 1, "c": 500_000_000, "Ġ": 3, "ab": 4]
        }),
        BadTokenizer("vocab id just past the dense bound", expected: ["model.vocab:", "id 6 for 'c'", "[0, 6)", "5 tokens in model.vocab and 1 added"], model: {
            $0["vocab"] = ["a": 0, "b": 1, "c": 6, "Ġ": 3, "ab": 4]
        }),
        BadTokenizer("duplicate vocab ids", expected: ["model.vocab:", "'a' and 'c' have the same id 0"], model: {
            $0["vocab"] = ["a": 0, "b": 1, "c": 0, "Ġ": 3, "ab": 4]
        }),
        BadTokenizer("added token on a vocab token's id", expected: ["added_tokens[0].id:", "'<s>' and 'ab' have the same id 4"]) {
            $0["added_tokens"] = [["id": 4, "content": "<s>", "special": true]]
        },
        BadTokenizer("two added tokens with one id", expected: ["added_tokens[1].id:", "'</s>' and '<s>' have the same id 5"]) {
            $0["added_tokens"] = [["id": 5, "content": "<s>", "special": true], ["id": 5, "content": "</s>", "special": true]]
        },
        BadTokenizer("added token whose vocab id differs", expected: ["added_tokens[0].id:", "id 5 for 'a', which already has id 0"]) {
            $0["added_tokens"] = [["id": 5, "content": "a", "special": true]]
            $0["post_processor"] = nil
        },
        BadTokenizer("fractional vocab id", expected: ["model.vocab:", "1.5 for 'c' is not an integer token id"], model: {
            $0["vocab"] = ["a": 0, "b": 1, "c": 1.5, "Ġ": 3, "ab": 4]
        }),
        BadTokenizer("huge floating vocab id", expected: ["model.vocab:", "for 'c' is not an integer token id"], model: {
            $0["vocab"] = ["a": 0, "b": 1, "c": 1e300, "Ġ": 3, "ab": 4]
        }),
        BadTokenizer("boolean vocab id", expected: ["model.vocab:", "for 'c' is not an integer token id"], model: {
            $0["vocab"] = ["a": 0, "b": 1, "c": true, "Ġ": 3, "ab": 4]
        }),
        BadTokenizer("added token without an id", expected: ["added_tokens[0]:", "needs an integer id"]) {
            $0["added_tokens"] = [["content": "<s>", "special": true]]
        },
        BadTokenizer("merge of a token not in the vocab", expected: ["model.merges[1]:", "token 'x' is not in model.vocab"], model: {
            $0["merges"] = ["a b", "x a"]
        }),
        BadTokenizer("merge whose result is not in the vocab", expected: ["model.merges[0]:", "token 'ba' is not in model.vocab"], model: {
            $0["merges"] = ["b a"]
        }),
        BadTokenizer("merge that is not a pair", expected: ["model.merges[0]:", "not a pair"], model: {
            $0["merges"] = [["a", "b", "c"]]
        }),
        BadTokenizer("special-token id outside the vocabulary", expected: ["post_processor.special_tokens.<s>.ids:", "99 is not a token id in [0, 6)"]) {
            $0["post_processor"] = [
                "type": "TemplateProcessing",
                "single": [["SpecialToken": ["id": "<s>", "type_id": 0]], ["Sequence": ["id": "A", "type_id": 0]]],
                "special_tokens": ["<s>": ["id": "<s>", "ids": [99], "tokens": ["<s>"]]],
            ] as [String: Any]
        },
        BadTokenizer("normalizer that multiplies text", expected: ["tokenizer.json: normalizer:", "1000 times longer", "at most 256"]) {
            let tenfold: [String: Any] = ["type": "Replace", "pattern": ["String": "a"], "content": String(repeating: "a", count: 10)]
            $0["normalizer"] = ["type": "Sequence", "normalizers": [tenfold, tenfold, tenfold]] as [String: Any]
        },
        BadTokenizer("decoder that multiplies tokens", expected: ["tokenizer.json: decoder:", "300 times longer"]) {
            let stage: [String: Any] = ["type": "Replace", "pattern": ["String": "a"], "content": String(repeating: "b", count: 300)]
            $0["decoder"] = ["type": "Sequence", "decoders": [stage]] as [String: Any]
        },
        BadTokenizer("catastrophic split pattern", expected: ["pre_tokenizer.pretokenizers[0].pattern:", "(a+)+", "exponential"],
                     json: { try TinyTokenizer.split("(a+)+$") }),
        BadTokenizer("invalid split pattern", expected: ["pre_tokenizer.pretokenizers[0].pattern:", "invalid regular expression"],
                     json: { try TinyTokenizer.split("(a") }),
    ]

    @Test(arguments: badInputs)
    func badInputThrowsAnErrorNamingTheField(_ input: BadTokenizer) throws {
        let data = try input.json()
        let error = try #require(throws: TokenizerError.self) { try BPETokenizer(json: data) }
        for words in input.expected {
            #expect(error.description.contains(words), "\(error.description)")
        }
    }

    /// An added token that repeats a vocab token leaves room for a hole below the bound.
    @Test func holesBelowTheBoundLoad() throws {
        // 5 vocab tokens + 1 added token (also in the vocab): ids below 6, and id 2 has no token.
        let data = try TinyTokenizer.json({
            $0["added_tokens"] = [["id": 5, "content": "c", "special": false]]
            $0["post_processor"] = nil
        }, model: { $0["vocab"] = ["a": 0, "b": 1, "Ġ": 3, "ab": 4, "c": 5] })
        let tokenizer = try BPETokenizer(json: data)
        #expect(tokenizer.vocabularySize == 6)
        #expect(tokenizer.encode("ab c", addSpecialTokens: false) == [4, 3, 5])
        // An id without a token decodes to nothing and does not count as the start of the text.
        #expect(tokenizer.decode([2, 5], skipSpecialTokens: false) == "c")
    }

    @Test func repeatedVocabKeyIsAnError() throws {
        let json = #"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "a": 2}, "merges": []}}"#
        let error = try #require(throws: TokenizerError.self) { try BPETokenizer(json: Data(json.utf8)) }
        #expect(error.description == "tokenizer.json: model.vocab: 'a' appears twice (ids 0 and 2)")
    }
}
