import Foundation
import Testing
import TestSupport
import Models
import Kernels

/// q8 / q4 weights quantized at load from f32, bf16 and f16 checkpoints: formats per role, the same results
/// as an f32 model of the dequantized weights, logits within a stated distance of transformers' f32 logits,
/// and refusals naming the tensor.
@Suite struct QuantFormatTests: ScratchModels {
    static let fixtures = ["llama-tied", "llama-untied-sharded", "qwen2-bias", "llama-bf16", "llama-f16"]

    /// Projections in the chosen format; embeddings and head in q8 for both (README "Weight formats").
    @Test(arguments: [WeightFormat.q8, .q4])
    func formatsPerRole(format: WeightFormat) throws {
        let model = try LlamaModel(directory: Fixtures.model("llama-untied-sharded"), format: format)
        let projections = model.weights.blocks.flatMap { [$0.qkv, $0.output, $0.gateUp, $0.down] }
        #expect(projections.allSatisfy { $0.format.rawValue == format.rawValue })
        #expect(model.weights.embeddings.format == .q8 && model.weights.lmHead.format == .q8)
        #expect(model.weights.formatDescription == (format == .q8 ? "q8" : "embeddings=q8 blocks=q4 head=q8"))
        let hidden = model.config.hiddenSize
        #expect(model.weights.lmHead.byteCount == model.config.vocabularySize * ((hidden + 31) / 32) * 34)
    }

    /// A quantized model computes what an f32 model of its dequantized weights computes: exactly the same
    /// weights in prefill (panels dequantized exactly; 1e-4 covers summation order, as for bf16), and in decode
    /// within the error of quantizing each matrix's input per block to int8 (checked against a bound below).
    @Test(arguments: [WeightFormat.q8, .q4])
    func quantizedModelComputesItsDequantizedWeights(format: WeightFormat) throws {
        let model = try LlamaModel(directory: Fixtures.model("qwen2-bias"), format: format)
        let reference = try LlamaModel(config: model.config, weights: dequantized(model.weights))
        let tokens = [1, 17, 42, 5, 77, 63, 8]
        let positions = Array(0..<tokens.count)
        let expected = try reference.forward(tokens: tokens, positions: positions, cache: reference.makeCache(capacity: 16), outputs: .all)
        let actual = try model.forward(tokens: tokens, positions: positions, cache: model.makeCache(capacity: 16), outputs: .all)
        #expect(maxAbsoluteDifference(actual.values, expected.values) <= 1e-4)
        // Decode: int8 inputs (each off by at most 1/254 of its block's largest value) perturb every product by
        // ~0.5% of its size, over 9 matrix products: measured 2.7% (q8) and 2.3% (q4) of the logits' norm on this
        // fixture; bounded at 5%, against ~100% or more for a wrong row, block or scale.
        let cache = model.makeCache(capacity: 16)
        var decoded: [Float] = []
        for (position, token) in tokens.enumerated() {
            decoded += try model.forward(tokens: [token], positions: [position], cache: cache).last
        }
        let error = relativeError(decoded, expected.values)
        #expect(error <= 0.05, "\(format) decode: relative RMS error \(error) against the dequantized f32 model")
    }

    /// Logits against transformers' f32 output for every prompt of the fixtures, from f32, bf16 and f16
    /// checkpoints, prefill and decode, as a relative RMS error (see `tolerance`).
    @Test(arguments: fixtures, [WeightFormat.q8, .q4])
    func logitsStayCloseToTransformers(name: String, format: WeightFormat) throws {
        let directory = Fixtures.model(name)
        let model = try LlamaModel(directory: directory, format: format)
        let expected = try SafeTensorsFile(path: directory.appendingPathComponent("expected.safetensors").path)
        let prompts = try JSONDecoder().decode([FixturePrompt].self,
                                               from: Data(contentsOf: directory.appendingPathComponent("prompts.json")))
        for (index, prompt) in prompts.enumerated() {
            let info = try #require(expected.tensors["logits.\(index)"])
            let reference = FloatBuffer(count: info.elementCount)
            expected.read(info, into: reference.pointer)
            let prefill = try model.forward(tokens: prompt.tokens, positions: prompt.positions, cache: model.makeCache(capacity: 64),
                                            outputs: .all)
            let error = relativeError(prefill.values, reference.array)
            #expect(error <= Self.tolerance(format), "\(name) \(format) prompt \(index): relative RMS error \(error)")
            let cache = model.makeCache(capacity: 64)
            var decoded: [Float] = []
            for (token, position) in zip(prompt.tokens, prompt.positions) {
                decoded += try model.forward(tokens: [token], positions: [position], cache: cache).last
            }
            let decodeError = relativeError(decoded, reference.array)
            #expect(decodeError <= Self.tolerance(format), "\(name) \(format) decode \(index): relative RMS error \(decodeError)")
        }
    }

    /// ‖actual − expected‖₂ / ‖expected‖₂ over all logits of a prompt.
    private func relativeError(_ actual: [Float], _ expected: [Float]) -> Double {
        guard actual.count == expected.count, !expected.isEmpty else { return .infinity }
        let difference = zip(actual, expected).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
        let size = expected.reduce(0.0) { $0 + Double($1) * Double($1) }
        return (difference / max(size, 1e-30)).squareRoot()
    }

    /// Largest ‖Δlogits‖ / ‖logits‖ allowed per prompt. A weight quantized with a block scale s = max|w| / 127
    /// (q8) or max|w| / 8 (q4) is off by at most s / 2: an RMS error of ~0.6% (q8) or ~9% (q4) of the weights'
    /// spread, and these random fixtures (hidden 64: two blocks per row, 2 layers) amplify it. Measured over
    /// all fixtures and prompts, prefill and decode: q8 <= 3.5%, q4 <= 37%. Bounds 1.7x and 1.5x that: a wrong
    /// row, block, scale or nibble order gives ~100% or more. The tight checks of the arithmetic are
    /// `quantizedModelComputesItsDequantizedWeights` and the kernel tests; quality is measured on books-5m.
    static func tolerance(_ format: WeightFormat) -> Double { format == .q8 ? 0.06 : 0.55 }

    /// A block whose scale does not fit f16 (|value| > 65504 * 8 for q4) is refused, naming the file and the
    /// tensor; NaN is refused as for every format.
    @Test func unquantizableWeightsAreRefused() throws {
        let directory = try copyOfFixture()
        try SafeTensorsHeaderTests().damage(directory, tensor: "model.layers.1.mlp.down_proj.weight", index: 40, value: 1e6)
        _ = try LlamaModel(directory: directory, format: .q8)
        #expect {
            try LlamaModel(directory: directory, format: .q4)
        } throws: { error in
            "\(error)".contains("model.safetensors: tensor 'model.layers.1.mlp.down_proj.weight': the block of 32 values at index 32")
        }
        try SafeTensorsHeaderTests().damage(directory, tensor: "model.layers.0.self_attn.q_proj.weight", index: 3, value: .nan)
        #expect(throws: ModelError.nonFiniteWeight(file: "model.safetensors", tensor: "model.layers.0.self_attn.q_proj.weight", index: 3)) {
            try LlamaModel(directory: directory, format: .q8)
        }
    }

    /// The same weights dequantized to f32.
    private func dequantized(_ weights: LlamaWeights) -> LlamaWeights {
        func wide(_ matrix: Matrix) -> Matrix {
            let buffer = FloatBuffer(count: matrix.elementCount)
            for row in 0..<matrix.rows { matrix.copyRow(row, into: buffer.pointer + row * matrix.columns) }
            return Matrix(rows: matrix.rows, columns: matrix.columns, storage: buffer)
        }
        let blocks = weights.blocks.map {
            BlockWeights(attentionNorm: $0.attentionNorm, qkv: wide($0.qkv), qkvBias: $0.qkvBias, output: wide($0.output),
                         mlpNorm: $0.mlpNorm, gateUp: wide($0.gateUp), down: wide($0.down))
        }
        return LlamaWeights(embeddings: wide(weights.embeddings), blocks: blocks, finalNorm: weights.finalNorm, lmHead: wide(weights.lmHead))
    }
}
