import Foundation
import Testing
import Tokenizers
import TestSupport

let sharedDirectory = Locations.shared

struct ReferenceCase: Decodable {
    let text: String
    let ids: [Int]
    let ids_no_special: [Int]
    let decoded: String
}

/// Ids and decoded text against Hugging Face `tokenizers` (scripts/make_fixtures.py) on tricky text.
@Suite struct TokenizerReferenceTests {
    static let cases: [String: [ReferenceCase]] = {
        // safe: the fixture is a committed resource of this test target.
        let url = Bundle.module.url(forResource: "Fixtures/tokenizers", withExtension: "json")!
        return (try? JSONDecoder().decode([String: [ReferenceCase]].self, from: Data(contentsOf: url))) ?? [:]
    }()

    @Test(arguments: ["books-5m", "tinystories-656k"])
    func idsMatchHuggingFace(model: String) throws {
        guard let shared = sharedDirectory else {
            print("skipped: ../shared is absent, so the \(model) tokenizer is not available")
            return
        }
        let tokenizer = try BPETokenizer(contentsOf: shared.appendingPathComponent("models/\(model)/tokenizer.json"))
        let cases = try #require(Self.cases[model])
        #expect(cases.count > 20)
        for item in cases {
            #expect(tokenizer.encode(item.text, addSpecialTokens: true) == item.ids, "text: \(item.text.debugDescription)")
            #expect(tokenizer.encode(item.text, addSpecialTokens: false) == item.ids_no_special, "text: \(item.text.debugDescription)")
            #expect(tokenizer.decode(item.ids_no_special, skipSpecialTokens: true) == item.decoded, "ids: \(item.ids_no_special)")
        }
    }

    /// Streaming decode yields the same text as decoding all at once, and never a broken character.
    @Test(arguments: ["books-5m", "tinystories-656k"])
    func streamingDecodeEqualsBatchDecode(model: String) throws {
        guard let shared = sharedDirectory else { return }
        let tokenizer = try BPETokenizer(contentsOf: shared.appendingPathComponent("models/\(model)/tokenizer.json"))
        for item in try #require(Self.cases[model]) {
            var stream = StreamingDecoder(tokenizer: tokenizer, atStart: true)
            var text = ""
            for id in item.ids_no_special {
                let piece = stream.append(id)
                #expect(!piece.contains("\u{FFFD}") || item.decoded.contains("\u{FFFD}"))
                text += piece
            }
            text += stream.finish()
            #expect(text == item.decoded)
        }
    }
}
