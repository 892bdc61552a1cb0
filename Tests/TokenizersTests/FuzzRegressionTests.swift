import Foundation
import Testing
import Tokenizers
import TestSupport

/// Inputs the tokenizer.json fuzzer (scripts/fuzz/run.sh tokenizer) found or starts from.
@Suite struct FuzzRegressionTests {
    static let fixtures = Locations.repositoryRoot.appendingPathComponent("Tests/TokenizersTests/Fixtures/fuzz")
    static let seeds = Locations.repositoryRoot.appendingPathComponent("scripts/fuzz/tokenizer/seeds")

    static func files(in directory: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
    }

    /// Each input that crashed or hung the loader is now a clear error.
    @Test(arguments: files(in: fixtures))
    func crashingInputIsAnError(_ name: String) throws {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent(name))
        let error = try #require(throws: TokenizerError.self) { try BPETokenizer(json: data) }
        #expect(error.description.hasPrefix("tokenizer.json: "), "\(error)")
    }

    /// The seeds stay valid tokenizers, so the fuzzer starts from inputs that reach encoding.
    @Test func seedsLoadAndRoundTrip() throws {
        let names = Self.files(in: Self.seeds)
        #expect(names.count >= 4)
        for name in names {
            let tokenizer = try BPETokenizer(contentsOf: Self.seeds.appendingPathComponent(name))
            let ids = tokenizer.encode("Hello ab \u{E9}", addSpecialTokens: false)
            #expect(!ids.isEmpty, "\(name)")
            #expect(!tokenizer.decode(ids, skipSpecialTokens: true).isEmpty, "\(name): \(ids)")
        }
    }
}
