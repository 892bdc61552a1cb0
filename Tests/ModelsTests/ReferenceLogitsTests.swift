import Foundation
import Testing
import TestSupport
import Models
import Kernels

/// Logits at every position against golden output of Hugging Face transformers (scripts/make_fixtures.py).
@Suite struct ReferenceLogitsTests {
    static let models = ["llama-tied", "llama-untied-sharded", "llama3-scaling", "llama-linear-scaling", "llama-bf16",
                         "llama-f16", "mistral", "qwen2-bias", "llama-aliased-head", "rap-llama", "rap-qwen2-bias",
                         "chan-llama", "chan-qwen2-bias"]

    @Test(arguments: models)
    func logitsMatchTransformers(name: String) throws {
        let directory = Fixtures.model(name)
        let model = try LlamaModel(directory: directory)
        let expected = try SafeTensorsFile(path: directory.appendingPathComponent("expected.safetensors").path)
        let prompts = try JSONDecoder().decode([FixturePrompt].self,
                                               from: Data(contentsOf: directory.appendingPathComponent("prompts.json")))
        for (index, prompt) in prompts.enumerated() {
            let cache = model.makeCache(capacity: 64)
            let logits = try model.forward(tokens: prompt.tokens, positions: prompt.positions, cache: cache, outputs: .all)
            let info = try #require(expected.tensors["logits.\(index)"])
            #expect(info.shape == [prompt.tokens.count, model.config.vocabularySize])
            let reference = FloatBuffer(count: info.elementCount)
            expected.read(info, into: reference.pointer)
            let difference = maxAbsoluteDifference(logits.values, reference.array)
            #expect(difference <= 1e-4, "\(name) prompt \(index): max |Δlogit| = \(difference)")
        }
    }

    /// Decoding token by token through the cache gives the same logits as one batched prefill.
    @Test(arguments: ["llama-tied", "qwen2-bias", "llama3-scaling", "rap-llama", "chan-qwen2-bias"])
    func incrementalDecodeMatchesPrefill(name: String) throws {
        let model = try LlamaModel(directory: Fixtures.model(name))
        let tokens = [1, 17, 42, 5, 77, 63, 8, 91, 30]
        let batched = try model.forward(tokens: tokens, positions: Array(0..<tokens.count), cache: model.makeCache(capacity: 16), outputs: .all)
        let cache = model.makeCache(capacity: 16)
        for (position, token) in tokens.enumerated() {
            let step = try model.forward(tokens: [token], positions: [position], cache: cache)
            let difference = maxAbsoluteDifference(step.last, batched.row(position))
            #expect(difference <= 1e-4, "position \(position): max |Δlogit| = \(difference)")
        }
    }
}
