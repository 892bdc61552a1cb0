import Foundation
import Testing
import Models
import Kernels

/// Mistral's sliding window against transformers: a 4-token window and prompts of up to 16 tokens, so
/// every later query drops keys (scripts/make_fixtures.py, `mistral_sliding_window`).
@Suite struct SlidingWindowTests {
    let directory = Fixtures.model("mistral-sliding-window")

    func prompts() throws -> [FixturePrompt] {
        try JSONDecoder().decode([FixturePrompt].self, from: Data(contentsOf: directory.appendingPathComponent("prompts.json")))
    }

    /// Largest |a - b|, infinite on NaN or a length mismatch (so neither can pass).
    func difference(_ a: [Float], _ b: [Float]) -> Float {
        guard a.count == b.count else { return .infinity }
        return zip(a, b).reduce(0) { worst, pair in
            let d = abs(pair.0 - pair.1)
            return d.isNaN ? .infinity : max(worst, d)
        }
    }

    func logits(_ model: LlamaModel, _ prompt: FixturePrompt) throws -> [Float] {
        try model.forward(tokens: prompt.tokens, positions: prompt.positions, cache: model.makeCache(capacity: 32), outputs: .all).values
    }

    func reference(_ index: Int) throws -> [Float] {
        let expected = try SafeTensorsFile(path: directory.appendingPathComponent("expected.safetensors").path)
        let info = try #require(expected.tensors["logits.\(index)"])
        let buffer = FloatBuffer(count: info.elementCount)
        expected.read(info, into: buffer.pointer)
        return buffer.array
    }

    @Test func logitsMatchTransformers() throws {
        let model = try LlamaModel(directory: directory)
        #expect(model.config.slidingWindow == 4)
        let prompts = try prompts()
        #expect(prompts.contains { $0.tokens.count > 8 })
        for (index, prompt) in prompts.enumerated() {
            let worst = difference(try logits(model, prompt), try reference(index))
            #expect(worst <= 1e-4, "prompt \(index): max |Δlogit| = \(worst)")
        }
    }

    /// The fixture exercises the window: without it, the longest prompt's logits are far from the reference.
    @Test func fixtureDependsOnTheWindow() throws {
        let windowed = try LlamaModel(directory: directory)
        let c = windowed.config
        let unwindowed = try LlamaModel(
            config: try ModelConfig(architecture: c.architecture, hiddenSize: c.hiddenSize, intermediateSize: c.intermediateSize,
                                    layers: c.layers, heads: c.heads, kvHeads: c.kvHeads, headDimension: c.headDimension,
                                    rmsNormEpsilon: c.rmsNormEpsilon, vocabularySize: c.vocabularySize,
                                    maxPositionEmbeddings: c.maxPositionEmbeddings, bosTokenID: c.bosTokenID, eosTokenIDs: c.eosTokenIDs),
            weights: windowed.weights)
        let prompts = try prompts()
        let longest = try #require(prompts.indices.max { prompts[$0].tokens.count < prompts[$1].tokens.count })
        #expect(difference(try logits(unwindowed, prompts[longest]), try reference(longest)) > 1e-2)
    }
}
