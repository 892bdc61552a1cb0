import Foundation
import Testing
import TestSupport
import Models
import Kernels

/// Weights kept in the format chosen at load (`WeightFormat`): 16-bit checkpoints stay 16-bit, conversions
/// round to nearest even, and non-finite values are refused in every format.
@Suite struct WeightFormatTests: ScratchModels {
    /// The fixtures' transformers reference ran in f32 on weights rounded to bf16 / f16 (make_fixtures.py),
    /// and widening a 16-bit value to f32 is exact: kept in their format, the weights are the same numbers and
    /// only the summation order differs, so the f32 tolerance of the other fixtures holds (1e-4).
    @Test(arguments: [("llama-bf16", StorageFormat.bf16), ("llama-f16", .f16)])
    func sixteenBitFixturesStayInTheirFormatAndMatchTransformers(name: String, format: StorageFormat) throws {
        let directory = Fixtures.model(name)
        let model = try LlamaModel(directory: directory, format: .auto)
        let matrices = model.weights.matricesPerToken + [model.weights.embeddings]
        #expect(matrices.allSatisfy { $0.format == format })
        #expect(model.weights.formatDescription == format.rawValue)
        let widened = try LlamaModel(directory: directory, format: .f32)
        #expect(model.weights.bytesPerToken * 2 == widened.weights.bytesPerToken)
        let expected = try SafeTensorsFile(path: directory.appendingPathComponent("expected.safetensors").path)
        let prompts = try JSONDecoder().decode([FixturePrompt].self, from: Data(contentsOf: directory.appendingPathComponent("prompts.json")))
        for (index, prompt) in prompts.enumerated() {
            let info = try #require(expected.tensors["logits.\(index)"])
            let reference = FloatBuffer(count: info.elementCount)
            expected.read(info, into: reference.pointer)
            // Prefill (panels + sgemm) and token-by-token decode (the GEMV kernel) both match.
            let batched = try model.forward(tokens: prompt.tokens, positions: prompt.positions, cache: model.makeCache(capacity: 64),
                                            outputs: .all)
            #expect(maxAbsoluteDifference(batched.values, reference.array) <= 1e-4, "\(name) prompt \(index) prefill")
            let cache = model.makeCache(capacity: 64)
            for (row, (token, position)) in zip(prompt.tokens, prompt.positions).enumerated() {
                let step = try model.forward(tokens: [token], positions: [position], cache: cache)
                let start = row * model.config.vocabularySize
                let expectedRow = Array(reference.array[start..<(start + model.config.vocabularySize)])
                #expect(maxAbsoluteDifference(step.last, expectedRow) <= 1e-4, "\(name) prompt \(index) decode row \(row)")
            }
        }
    }

    /// An f32 checkpoint asked for bf16 / f16 holds each weight rounded to nearest even, norms stay f32, and
    /// the model computes what an f32 model of exactly those rounded values computes (1e-4: summation order).
    @Test(arguments: [StorageFormat.bf16, .f16])
    func conversionAtLoadRoundsEachWeight(format: StorageFormat) throws {
        let directory = Fixtures.model("llama-untied-sharded")
        let original = try LlamaModel(directory: directory, format: .f32)
        let converted = try LlamaModel(directory: directory, format: format == .bf16 ? .bf16 : .f16)
        #expect(converted.weights.formatDescription == format.rawValue)
        for (wide, narrow) in zip(original.weights.matricesPerToken + [original.weights.embeddings],
                                  converted.weights.matricesPerToken + [converted.weights.embeddings]) {
            guard case .f32(let values) = wide.storage else { Issue.record("f32 load holds \(wide.format)"); return }
            switch narrow.storage {
            case .bf16(let words), .f16(let words):
                let rounded = (0..<values.count).map { format == .bf16 ? HalfPrecision.narrowToBFloat16(values[$0])
                                                                       : Float16(values[$0]).bitPattern }
                #expect(Array(UnsafeBufferPointer(start: words.pointer, count: words.count)) == rounded)
            default: Issue.record("\(format) load holds \(narrow.format)")
            }
        }
        let reference = try LlamaModel(config: converted.config, weights: widenedToF32(converted.weights))
        let tokens = [1, 17, 42, 5, 77, 63, 8]
        let expected = try reference.forward(tokens: tokens, positions: Array(0..<7), cache: reference.makeCache(capacity: 16), outputs: .all)
        let actual = try converted.forward(tokens: tokens, positions: Array(0..<7), cache: converted.makeCache(capacity: 16), outputs: .all)
        #expect(maxAbsoluteDifference(actual.values, expected.values) <= 1e-4)
    }

    /// A value beyond f16's range (±65504) becomes infinite when converted and is refused, naming the tensor;
    /// the same checkpoint loads as f32 and bf16.
    @Test func f16OverflowIsRefused() throws {
        let directory = try copyOfFixture()
        try SafeTensorsHeaderTests().damage(directory, tensor: "model.layers.0.mlp.up_proj.weight", index: 5, value: 1e6)
        _ = try LlamaModel(directory: directory, format: .f32)
        _ = try LlamaModel(directory: directory, format: .bf16)
        #expect(throws: ModelError.nonFiniteWeight(file: "model.safetensors", tensor: "model.layers.0.mlp.up_proj.weight", index: 5)) {
            try LlamaModel(directory: directory, format: .f16)
        }
    }

    /// NaN and infinity stored in a bf16 checkpoint are refused when kept as bf16, found from the bit patterns.
    @Test(arguments: [UInt16(0x7FC0), 0xFF80])
    func nonFiniteBFloat16IsRefused(bits: UInt16) throws {
        let directory = try copyOfFixture("llama-bf16")
        let url = directory.appendingPathComponent("model.safetensors")
        let file = try SafeTensorsFile(path: url.path)
        let tensor = "model.layers.1.self_attn.o_proj.weight"
        let info = try #require(file.tensors[tensor])
        #expect(info.dtype == .bf16)
        let offset = 8 + file.headerBytes.count + info.range.lowerBound + (info.elementCount - 1) * 2
        var data = try Data(contentsOf: url)
        withUnsafeBytes(of: bits.littleEndian) { data.replaceSubrange(offset..<(offset + 2), with: $0) }
        try data.write(to: url)
        for format in [WeightFormat.auto, .bf16, .f16] {
            #expect(throws: ModelError.nonFiniteWeight(file: "model.safetensors", tensor: tensor, index: info.elementCount - 1)) {
                try LlamaModel(directory: directory, format: format)
            }
        }
    }

    /// The same weights held as f32.
    private func widenedToF32(_ weights: LlamaWeights) -> LlamaWeights {
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
