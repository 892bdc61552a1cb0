import Foundation
import Testing
@testable import Tokenizers

/// tokenizer.json's own JSON parser: plain Swift values, and errors (never traps) on bad documents.
@Suite struct JSONParserTests {
    @Test func valuesHaveSwiftTypes() throws {
        let json = #"{"i": 1000000000000, "n": -5, "d": 1.5, "e": 1e300, "big": 99999999999999999999, "t": true, "f": false, "z": null, "s": "a\u00e9\ud83d\udc33\"\\/\n", "a": [1, "x", []], "o": {}}"#
        let object = try #require(try JSONParser.parse(Array(json.utf8), file: "t.json") as? [String: Any])
        #expect(object["i"] as? Int == 1_000_000_000_000)
        #expect(object["n"] as? Int == -5)
        #expect(object["d"] as? Double == 1.5)
        #expect(object["e"] as? Double == 1e300)
        #expect(object["big"] as? Double == 1e20)
        #expect(object["t"] as? Bool == true)
        #expect(object["f"] as? Bool == false)
        #expect(object["z"] is NSNull)
        #expect(object["s"] as? String == "aé🐳\"\\/\n")
        #expect((object["a"] as? [Any])?.count == 3)
        #expect((object["o"] as? [String: Any])?.isEmpty == true)
        // Only exact integers are token ids.
        #expect(["i", "n"].map { object[$0].flatMap(JSONObject.exactInteger) } == [1_000_000_000_000, -5])
        #expect(["d", "e", "big", "t", "f", "s"].allSatisfy { object[$0].flatMap(JSONObject.exactInteger) == nil })
    }

    @Test func canonicallyEquivalentKeysDoNotTrap() throws {
        let json = #"{"\u00e9": 1, "e\u0301": 2, "x": {"\u03af": 3, "\u1f77": 4}}"#
        let object = try #require(try JSONParser.parse(Array(json.utf8), file: "t.json") as? [String: Any])
        #expect(object.count == 2)  // the two spellings of é are one Swift key; the last value stays
        #expect(object["\u{E9}"] as? Int == 2)
    }

    @Test(arguments: [
        ("", "byte 0: unexpected end of input"),
        ("{\"a\": 1", "byte 7: unexpected end of input in an object"),
        ("{\"a\" 1}", "byte 5: expected ':'"),
        ("[1 2]", "byte 3: expected ',' or ']'"),
        ("{\"a\": tru}", "byte 6: expected true"),
        ("\"\\x\"", "byte 2: invalid escape"),
        ("\"\\u12g4\"", "invalid \\u escape"),
        ("\"abc", "unterminated string"),
        ("-", "invalid number"),
        ("1.", "invalid number"),
        ("{} x", "unexpected text after the document"),
        (String(repeating: "[", count: 200), "nested deeper than 128 levels"),
    ])
    func badDocumentsAreErrors(_ json: String, _ expected: String) throws {
        let error = try #require(throws: TokenizerError.self) { try JSONParser.parse(Array(json.utf8), file: "t.json") }
        #expect(error.description.hasPrefix("t.json: invalid JSON at "), "\(error)")
        #expect(error.description.contains(expected), "\(error)")
    }

    @Test func byteOrderMarkIsSkipped() throws {
        let value = try JSONParser.parse([0xEF, 0xBB, 0xBF] + Array("[7]".utf8), file: "t.json")
        #expect((value as? [Any])?.first as? Int == 7)
    }
}
