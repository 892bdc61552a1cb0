import Kernels

/// Real model shapes, for measuring speed with random weights and no download.
public enum ModelShape: String, CaseIterable, Sendable {
    /// books-5m: 6 layers, hidden 256.
    case tiny
    /// SmolLM-135M: 30 layers, hidden 576.
    case small
    /// Qwen2.5-0.5B: 24 layers, hidden 896, q/k/v biases, vocab 151,936.
    case halfBillion = "0.5b"
    /// Llama-3.2-1B: 16 layers, hidden 2048, llama3 RoPE scaling, vocab 128,256.
    case billion = "1b"

    public func config() throws -> ModelConfig {
        switch self {
        case .tiny:
            return try ModelConfig(hiddenSize: 256, intermediateSize: 704, layers: 6, heads: 8, kvHeads: 4, headDimension: 32,
                                    vocabularySize: 4096, tieWordEmbeddings: true, maxPositionEmbeddings: 1024, bosTokenID: 0, eosTokenIDs: [1])
        case .small:
            return try ModelConfig(hiddenSize: 576, intermediateSize: 1536, layers: 30, heads: 9, kvHeads: 3, headDimension: 64,
                                    vocabularySize: 49152, tieWordEmbeddings: true, maxPositionEmbeddings: 8192, bosTokenID: 0, eosTokenIDs: [0])
        case .halfBillion:
            return try ModelConfig(architecture: .qwen2, hiddenSize: 896, intermediateSize: 4864, layers: 24, heads: 14, kvHeads: 2,
                                    headDimension: 64, rmsNormEpsilon: 1e-6, vocabularySize: 151_936, tieWordEmbeddings: true,
                                    attentionBias: true, maxPositionEmbeddings: 32768, ropeTheta: 1_000_000,
                                    bosTokenID: nil, eosTokenIDs: [151_643])
        case .billion:
            return try ModelConfig(hiddenSize: 2048, intermediateSize: 8192, layers: 16, heads: 32, kvHeads: 8, headDimension: 64,
                                    vocabularySize: 128_256, tieWordEmbeddings: true, maxPositionEmbeddings: 131_072,
                                    ropeTheta: 500_000,
                                    ropeScaling: .llama3(factor: 32, lowFrequencyFactor: 1, highFrequencyFactor: 4, originalContext: 8192),
                                    bosTokenID: 128_000, eosTokenIDs: [128_001])
        }
    }
}

extension LlamaWeights {
    /// Random weights for `config`: uniform in ±1/√fan-in, norms 1, matrices generated straight into
    /// `format` (a bf16 or f16 model is the rounding of the f32 one of the same seed, a q8 / q4 model its
    /// quantization); embeddings and LM head in `vocabularyFormat` (default `format`). Deterministic for a seed.
    public static func random(config: ModelConfig, seed: UInt64 = 1, format: StorageFormat = .f32,
                              vocabularyFormat: StorageFormat? = nil) -> LlamaWeights {
        var state = seed
        func fill(_ rows: Int, _ columns: Int, format: StorageFormat = format) -> Matrix {
            let matrix = Matrix(rows: rows, columns: columns, format: format)
            let scale = 1 / Float(columns).squareRoot()
            func next() -> Float {
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                let unit = Float(UInt32(truncatingIfNeeded: z >> 40)) / Float(1 << 24)
                return (2 * unit - 1) * scale
            }
            switch matrix.storage {
            case .f32(let buffer):
                for i in 0..<matrix.elementCount { buffer.pointer[i] = next() }
            case .bf16(let buffer):
                for i in 0..<matrix.elementCount { buffer.pointer[i] = HalfPrecision.narrowToBFloat16(next()) }
            case .f16(let buffer):
                for i in 0..<matrix.elementCount { buffer.pointer[i] = Float16(next()).bitPattern }
            case .q8(let buffer), .q4(let buffer):
                let row = FloatBuffer(count: columns)
                for r in 0..<rows {
                    for c in 0..<columns { row.pointer[c] = next() }
                    // Values within ±1 always quantize (finite, scales far inside f16).
                    let done: Void? = try? QuantKernels.quantize(format, row.pointer, rows: 1, columns: columns,
                                                                 into: buffer.pointer + r * format.rowBytes(columns: columns))
                    precondition(done != nil, "random weights within ±1 quantize")  // safe: see above
                }
            }
            return matrix
        }
        func ones(_ count: Int) -> FloatBuffer { FloatBuffer([Float](repeating: 1, count: count)) }
        let hidden = config.hiddenSize
        let blocks = (0..<config.layers).map { _ in
            BlockWeights(attentionNorm: ones(hidden), qkv: fill(config.qkvWidth, hidden),
                         qkvBias: config.attentionBias ? FloatBuffer(count: config.qkvWidth) : nil,
                         output: fill(hidden, config.heads * config.valueDimension), mlpNorm: ones(hidden),
                         gateUp: fill(2 * config.intermediateSize, hidden),
                         down: fill(hidden, config.intermediateSize))
        }
        let embeddings = fill(config.vocabularySize, hidden, format: vocabularyFormat ?? format)
        let head = config.tieWordEmbeddings ? embeddings : fill(config.vocabularySize, hidden, format: vocabularyFormat ?? format)
        return LlamaWeights(embeddings: embeddings, blocks: blocks, finalNorm: ones(hidden), lmHead: head)
    }
}
