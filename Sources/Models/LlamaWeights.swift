import Foundation
import Kernels

/// The weights of one transformer block, with projections fused for fewer, larger matrix calls.
public struct BlockWeights: Sendable {
    /// `[hidden]` RMSNorm before attention.
    public let attentionNorm: FloatBuffer
    /// `[heads dk + kvHeads (dk + dv), hidden]`: q, k, v projections stacked (`dk = dv = d` unless pruned).
    public let qkv: Matrix
    /// `[heads dk + kvHeads (dk + dv)]` q/k/v biases (Qwen2), or nil.
    public let qkvBias: FloatBuffer?
    /// `[hidden, heads * dv]`.
    public let output: Matrix
    /// `[hidden]` RMSNorm before the MLP.
    public let mlpNorm: FloatBuffer
    /// `[2 * intermediate, hidden]`: gate and up projections stacked.
    public let gateUp: Matrix
    /// `[hidden, intermediate]`.
    public let down: Matrix

    public init(attentionNorm: FloatBuffer, qkv: Matrix, qkvBias: FloatBuffer?, output: Matrix, mlpNorm: FloatBuffer,
                gateUp: Matrix, down: Matrix) {
        self.attentionNorm = attentionNorm
        self.qkv = qkv
        self.qkvBias = qkvBias
        self.output = output
        self.mlpNorm = mlpNorm
        self.gateUp = gateUp
        self.down = down
    }
}

/// All weights of a Llama-family model. Matrices are kept in the format chosen at load (`WeightFormat`):
/// f32, bf16, f16, q8 or q4; norms and biases are f32.
public struct LlamaWeights: Sendable {
    /// `[vocab, hidden]`; rows are widened to f32 one token at a time.
    public let embeddings: Matrix
    public let blocks: [BlockWeights]
    /// `[hidden]`.
    public let finalNorm: FloatBuffer
    /// `[vocab, hidden]`; shares storage with `embeddings` when tied.
    public let lmHead: Matrix

    /// Every projection matrix read per decoded token (tied embeddings: only the head's pass counts).
    public var matricesPerToken: [Matrix] { blocks.flatMap { [$0.qkv, $0.output, $0.gateUp, $0.down] } + [lmHead] }

    /// Bytes read per decoded token: every weight once, in its stored format.
    public var bytesPerToken: Int { matricesPerToken.reduce(0) { $0 + $1.byteCount } }

    /// The formats the matrices are kept in, for fingerprints and reports: one name ("bf16") when all agree,
    /// else per role ("embeddings=f32 blocks=bf16 head=f32").
    public var formatDescription: String {
        let blockFormats = Set(blocks.flatMap { [$0.qkv.format, $0.output.format, $0.gateUp.format, $0.down.format] })
            .map(\.rawValue).sorted().joined(separator: "+")
        let roles = [embeddings.format.rawValue, blockFormats.isEmpty ? embeddings.format.rawValue : blockFormats, lmHead.format.rawValue]
        if Set(roles).count == 1 { return roles[0] }
        return "embeddings=\(roles[0]) blocks=\(roles[1]) head=\(roles[2])"
    }

    /// Loads every tensor of `checkpoint`, each matrix in `format` (`auto`: as stored), after checking that
    /// each tensor the config implies exists with the implied shape, so nothing is allocated for a checkpoint
    /// that cannot load (and allocations are bounded by what the files hold). Throws on NaN or infinite
    /// weights, naming the tensor.
    public init(checkpoint: Checkpoint, config: ModelConfig, format: WeightFormat = .auto) throws {
        for (name, shape) in Self.expectedTensors(config: config, checkpoint: checkpoint) {
            try checkpoint.info(name, shape: shape)
        }
        let hidden = config.hiddenSize
        let qRows = config.heads * config.keyDimension
        let kRows = config.kvHeads * config.keyDimension
        let vRows = config.kvHeads * config.valueDimension
        let oColumns = config.heads * config.valueDimension
        let inter = config.intermediateSize
        /// One matrix of `parts` stacked by rows (`[sum of rows, columns]`), in the format of the first part.
        func matrix(_ parts: [(name: String, rows: Int)], columns: Int, role: WeightFormat.Role = .projection) throws -> Matrix {
            guard let first = parts.first else { throw ModelError.invalidInput("a matrix needs at least one tensor") }
            let storage = format.storage(for: try checkpoint.dtype(first.name, shape: [first.rows, columns]), role: role)
            let matrix = Matrix(rows: parts.reduce(0) { $0 + $1.rows }, columns: columns, format: storage)
            var row = 0
            for part in parts {
                try checkpoint.read(part.name, shape: [part.rows, columns], into: matrix, firstRow: row)
                row += part.rows
            }
            return matrix
        }
        blocks = try (0..<config.layers).map { layer in
            let prefix = "model.layers.\(layer)."
            var bias: FloatBuffer? = nil
            if config.attentionBias {
                let b = FloatBuffer(count: qRows + kRows + vRows)
                try checkpoint.read(prefix + "self_attn.q_proj.bias", shape: [qRows], into: b.pointer)
                try checkpoint.read(prefix + "self_attn.k_proj.bias", shape: [kRows], into: b.pointer + qRows)
                try checkpoint.read(prefix + "self_attn.v_proj.bias", shape: [vRows], into: b.pointer + qRows + kRows)
                bias = b
            }
            return BlockWeights(
                attentionNorm: try checkpoint.buffer(prefix + "input_layernorm.weight", shape: [hidden]),
                qkv: try matrix([(prefix + "self_attn.q_proj.weight", qRows), (prefix + "self_attn.k_proj.weight", kRows),
                                 (prefix + "self_attn.v_proj.weight", vRows)], columns: hidden),
                qkvBias: bias,
                output: try matrix([(prefix + "self_attn.o_proj.weight", hidden)], columns: oColumns),
                mlpNorm: try checkpoint.buffer(prefix + "post_attention_layernorm.weight", shape: [hidden]),
                gateUp: try matrix([(prefix + "mlp.gate_proj.weight", inter), (prefix + "mlp.up_proj.weight", inter)], columns: hidden),
                down: try matrix([(prefix + "mlp.down_proj.weight", hidden)], columns: inter))
        }
        finalNorm = try checkpoint.buffer("model.norm.weight", shape: [hidden])
        let vocabulary = config.vocabularySize
        embeddings = try matrix([(Self.embeddingName(checkpoint), vocabulary)], columns: hidden, role: .vocabulary)
        if Self.headIsTied(config: config, checkpoint: checkpoint) {
            lmHead = embeddings
        } else {
            lmHead = try matrix([("lm_head.weight", vocabulary)], columns: hidden, role: .vocabulary)
        }
    }

    /// Tied checkpoints store either name; some store only lm_head and alias the embeddings to it.
    private static func embeddingName(_ checkpoint: Checkpoint) -> String {
        checkpoint.contains("model.embed_tokens.weight") ? "model.embed_tokens.weight" : "lm_head.weight"
    }

    private static func headIsTied(config: ModelConfig, checkpoint: Checkpoint) -> Bool {
        config.tieWordEmbeddings || !checkpoint.contains("lm_head.weight")
    }

    /// Every tensor `init(checkpoint:config:)` reads, with the shape the config implies, in reading order.
    /// Products are bounded by `ModelConfig.Limits`, so none overflows.
    static func expectedTensors(config: ModelConfig, checkpoint: Checkpoint) -> [(name: String, shape: [Int])] {
        let hidden = config.hiddenSize
        let qRows = config.heads * config.keyDimension
        let kRows = config.kvHeads * config.keyDimension
        let vRows = config.kvHeads * config.valueDimension
        let oColumns = config.heads * config.valueDimension
        let inter = config.intermediateSize
        var tensors: [(name: String, shape: [Int])] = []
        for layer in 0..<config.layers {
            let prefix = "model.layers.\(layer)."
            tensors += [(prefix + "self_attn.q_proj.weight", [qRows, hidden]), (prefix + "self_attn.k_proj.weight", [kRows, hidden]),
                        (prefix + "self_attn.v_proj.weight", [vRows, hidden])]
            if config.attentionBias {
                tensors += [(prefix + "self_attn.q_proj.bias", [qRows]), (prefix + "self_attn.k_proj.bias", [kRows]),
                            (prefix + "self_attn.v_proj.bias", [vRows])]
            }
            tensors += [(prefix + "mlp.gate_proj.weight", [inter, hidden]), (prefix + "mlp.up_proj.weight", [inter, hidden]),
                        (prefix + "input_layernorm.weight", [hidden]), (prefix + "self_attn.o_proj.weight", [hidden, oColumns]),
                        (prefix + "post_attention_layernorm.weight", [hidden]), (prefix + "mlp.down_proj.weight", [hidden, inter])]
        }
        tensors.append(("model.norm.weight", [hidden]))
        tensors.append((embeddingName(checkpoint), [config.vocabularySize, hidden]))
        if !headIsTied(config: config, checkpoint: checkpoint) { tensors.append(("lm_head.weight", [config.vocabularySize, hidden])) }
        return tensors
    }

    /// Assembles weights from parts (random models, tests).
    public init(embeddings: Matrix, blocks: [BlockWeights], finalNorm: FloatBuffer, lmHead: Matrix) {
        self.embeddings = embeddings
        self.blocks = blocks
        self.finalNorm = finalNorm
        self.lmHead = lmHead
    }
}
