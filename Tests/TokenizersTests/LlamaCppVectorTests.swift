import Foundation
import Testing
import Tokenizers
import TestSupport

/// llama.cpp's tokenizer test vectors (`tokenizer-vectors/llamacpp/ggml-vocab-*.gguf.inp` and `.out` in
/// ../shared): inputs separated by `\n__ggml_vocab_test__\n`, expected ids one line per input, no BOS.
struct LlamaCppVectors {
    let inputs: [String]
    let ids: [[Int]]

    init(directory: URL, vocabulary: String) throws {
        let base = directory.appendingPathComponent("ggml-vocab-\(vocabulary).gguf")
        let input = try String(contentsOf: base.appendingPathExtension("inp"), encoding: .utf8)
        let output = try String(contentsOf: base.appendingPathExtension("out"), encoding: .utf8)
        var inputs = input.components(separatedBy: "\n__ggml_vocab_test__\n")
        if inputs.last == "" { inputs.removeLast() }
        var lines = output.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        self.inputs = inputs
        ids = try lines.map { line in
            try line.split(separator: " ").map { try #require(Int($0), "not an id in \(base.lastPathComponent).out: \($0)") }
        }
    }
}

/// The Llama-2 tokenizer.json in ../shared against llama.cpp's `llama-spm` vectors.
@Suite(.enabled(if: Locations.shared != nil, "../shared is absent: the Llama-2 tokenizer and llama.cpp's vectors live there"))
struct LlamaCppVectorTests {
    @Test func llamaSPMMatchesLlamaCpp() throws {
        let shared = try #require(Locations.shared)
        let tokenizer = try BPETokenizer(contentsOf: shared.appendingPathComponent("models/llama2-tokenizer/tokenizer.json"))
        let vectors = try LlamaCppVectors(directory: shared.appendingPathComponent("tokenizer-vectors/llamacpp"), vocabulary: "llama-spm")
        #expect(vectors.inputs.count == 46)
        try #require(vectors.inputs.count == vectors.ids.count)
        #expect(tokenizer.vocabularySize == 32_000)
        for (text, expected) in zip(vectors.inputs, vectors.ids) {
            let ids = tokenizer.encode(text, addSpecialTokens: false)
            #expect(ids == expected, "text: \(text.debugDescription)")
            // SentencePiece decoding gives the text back, less the space it prepends.
            #expect(tokenizer.decode(ids, skipSpecialTokens: true) == text, "ids: \(ids)")
        }
    }
}
