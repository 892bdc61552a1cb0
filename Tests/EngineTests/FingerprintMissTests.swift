import Foundation
import Testing
import Documents
import Engine
import TestSupport

/// Two checkpoints with identical config, tokenizer and safetensors headers but different weight bytes (two
/// fine-tunes of one base) never share document-library entries, even through one library directory.
@Suite struct FingerprintMissTests {
    /// A copy of the embedded model whose weights differ: 32 bf16 elements of the data section reversed
    /// (finite values moved, the header untouched).
    static func perturbedCopy(of source: URL, into directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for name in ["config.json", "tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: directory.appendingPathComponent(name))
        }
        var bytes = [UInt8](try Data(contentsOf: source.appendingPathComponent("model.safetensors")))
        let headerLength = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let start = 8 + headerLength + 4096
        for i in 0..<16 {
            let a = start + 2 * i, b = start + 2 * (31 - i)
            bytes.swapAt(a, b)
            bytes.swapAt(a + 1, b + 1)
        }
        try Data(bytes).write(to: directory.appendingPathComponent("model.safetensors"))
    }

    @Test func sameHeadersDifferentWeightsMiss() async throws {
        let base = repositoryRoot.appendingPathComponent("models/books-5m")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("reanchor-fingerprint-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        try Self.perturbedCopy(of: base, into: scratch.appendingPathComponent("tuned"))
        let original = try LanguageModel(directory: base)
        let tuned = try LanguageModel(directory: scratch.appendingPathComponent("tuned"))
        #expect(original.fingerprint.tokenizer == tuned.fingerprint.tokenizer)
        #expect(original.fingerprint.model != tuned.fingerprint.model)

        let directory = scratch.appendingPathComponent("library").path
        let prompt = RAGTemplate().prompt(passages: ["The whale was white.", "Ahab was the captain."], question: "who?",
                                          tokenizer: original.tokenizer, bos: original.config.bosTokenID)
        let first = try await PromptComposer(model: original.model, library: try original.library(path: directory))
            .compose(prompt, mode: .anchored)
        #expect(first.libraryHits == 0 && first.libraryMisses == 3)
        // The same directory, opened for the other weights: every entry is a miss.
        let other = try await PromptComposer(model: tuned.model, library: try tuned.library(path: directory))
            .compose(prompt, mode: .anchored)
        #expect(other.libraryHits == 0 && other.libraryMisses == 3)
        // And for the original weights again: every entry is a hit.
        let again = try await PromptComposer(model: original.model, library: try original.library(path: directory))
            .compose(prompt, mode: .anchored)
        #expect(again.libraryHits == 3 && again.libraryMisses == 0)
    }
}
