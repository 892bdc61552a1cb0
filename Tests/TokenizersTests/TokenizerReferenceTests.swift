import Foundation
import Testing
import Tokenizers
import TestSupport

struct ReferenceCase: Decodable {
    let text: String
    let ids: [Int]
    let ids_no_special: [Int]
    let decoded: String
}

/// Where each reference tokenizer lives: the embedded model's copy in the repository (always there, so CI
/// runs its tests), the others in ../shared.
enum ReferenceTokenizer: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case books = "books-5m"
    case tinyStories = "tinystories-656k"

    var url: URL? {
        switch self {
        case .books: return Locations.repositoryRoot.appendingPathComponent("models/books-5m/tokenizer.json")
        case .tinyStories: return Locations.shared?.appendingPathComponent("models/tinystories-656k/tokenizer.json")
        }
    }

    var testDescription: String { rawValue }

    func load() throws -> BPETokenizer { try BPETokenizer(contentsOf: try #require(url)) }
}

/// Ids and decoded text against Hugging Face `tokenizers` (scripts/make_fixtures.py) on tricky text.
@Suite struct TokenizerReferenceTests {
    static let cases: [String: [ReferenceCase]] = {
        guard let url = Bundle.module.url(forResource: "Fixtures/tokenizers", withExtension: "json"),
              let data = try? Data(contentsOf: url) else { return [:] }
        return (try? JSONDecoder().decode([String: [ReferenceCase]].self, from: data)) ?? [:]
    }()

    @Test func embeddedModelTokenizerIsInTheRepository() throws {
        let url = try #require(ReferenceTokenizer.books.url)
        #expect(FileManager.default.fileExists(atPath: url.path), "missing \(url.path)")
    }

    @Test func booksIDsMatchHuggingFace() throws { try checkIDs(.books) }

    @Test(.enabled(if: Locations.shared != nil, "../shared is absent: the tinystories-656k tokenizer lives there"))
    func tinyStoriesIDsMatchHuggingFace() throws { try checkIDs(.tinyStories) }

    @Test func booksStreamingDecodeEqualsBatchDecode() throws { try checkStreaming(.books) }

    @Test(.enabled(if: Locations.shared != nil, "../shared is absent: the tinystories-656k tokenizer lives there"))
    func tinyStoriesStreamingDecodeEqualsBatchDecode() throws { try checkStreaming(.tinyStories) }

    private func checkIDs(_ reference: ReferenceTokenizer) throws {
        let tokenizer = try reference.load()
        let cases = try #require(Self.cases[reference.rawValue])
        #expect(cases.count > 20)
        for item in cases {
            #expect(tokenizer.encode(item.text, addSpecialTokens: true) == item.ids, "text: \(item.text.debugDescription)")
            #expect(tokenizer.encode(item.text, addSpecialTokens: false) == item.ids_no_special, "text: \(item.text.debugDescription)")
            #expect(tokenizer.decode(item.ids_no_special, skipSpecialTokens: true) == item.decoded, "ids: \(item.ids_no_special)")
        }
    }

    /// Streaming decode yields the same text as decoding all at once, and never a broken character.
    private func checkStreaming(_ reference: ReferenceTokenizer) throws {
        let tokenizer = try reference.load()
        let cases = try #require(Self.cases[reference.rawValue])
        #expect(!cases.isEmpty)
        for item in cases {
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
