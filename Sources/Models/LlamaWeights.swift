import Foundation
import Kernels

/// The weights of one transformer block, with projections fused for fewer, larger matrix calls.
public struct BlockWeights: Sendable {
    /// `[hidden]` RMSNorm before attention.
    public let attentionNorm: FloatBuffer
    /// `[(heads + 2 kvHeads) * d, hidden]`: q, k, v projections stacked.
    public let qkv: Matrix
    /// `[(heads + 2 kvHeads) * d]` q/k/v biases (Qwen2), or nil.
    public let qkvBias: FloatBuffer?
    /// `[hidden, heads * d]`.
    public let output: Matrix
    /// `[hidden]` RMSNorm before the MLP.
    public let mlpNorm: FloatBuffer
    /// `[2 * intermediate, hidden]`: gate and up projections stacked.
    public let gateUp: Matrix
    /// `[hidden, intermediate]`.
    public let down: Matrix
}

/// All weights of a Llama-family model, held as f32.
public struct LlamaWeights: Sendable {
    /// `[vocab, hidden]`.
    public let embeddings: Matrix
    public let blocks: [BlockWeights]
    /// `[hidden]`.
    public let finalNorm: FloatBuffer
    /// `[vocab, hidden]`; shares storage with `embeddings` when tied.
    public let lmHead: Matrix

    /// Bytes read per decoded token: every weight once (tied embeddings: only the head's pass counts).
    public var bytesPerToken: Int {
        let blockBytes = blocks.reduce(0) { $0 + $1.qkv.byteCount + $1.output.byteCount + $1.gateUp.byteCount + $1.down.byteCount }
        return blockBytes + lmHead.byteCount
    }

    /// Loads every tensor of `checkpoint` as f32, after checking that each one the config implies exists with
    /// the implied shape, so nothing is allocated for a checkpoint that cannot load (and allocations are
    /// bounded by what the files hold). Throws on NaN or infinite weights, naming the tensor.
    public init(checkpoint: Checkpoint, config: ModelConfig) throws {
        for (name, shape) in Self.expectedTensors(config: config, checkpoint: checkpoint) {
            try checkpoint.info(name, shape: shape)
        }
        let hidden = config.hiddenSize
        let d = config.headDimension
        let qRows = config.heads * d
        let kvRows = config.kvHeads * d
        let inter = config.intermediateSize
        blocks = try (0..<config.layers).map { layer in
            let prefix = "model.layers.\(layer)."
            let qkv = Matrix(rows: qRows + 2 * kvRows, columns: hidden)
            try checkpoint.read(prefix + "self_attn.q_proj.weight", shape: [qRows, hidden], into: qkv.storage.pointer)
            try checkpoint.read(prefix + "self_attn.k_proj.weight", shape: [kvRows, hidden], into: qkv.storage.pointer + qRows * hidden)
            try checkpoint.read(prefix + "self_attn.v_proj.weight", shape: [kvRows, hidden],
                                into: qkv.storage.pointer + (qRows + kvRows) * hidden)
            var bias: FloatBuffer? = nil
            if config.attentionBias {
                let b = FloatBuffer(count: qRows + 2 * kvRows)
                try checkpoint.read(prefix + "self_attn.q_proj.bias", shape: [qRows], into: b.pointer)
                try checkpoint.read(prefix + "self_attn.k_proj.bias", shape: [kvRows], into: b.pointer + qRows)
                try checkpoint.read(prefix + "self_attn.v_proj.bias", shape: [kvRows], into: b.pointer + qRows + kvRows)
                bias = b
            }
            let gateUp = Matrix(rows: 2 * inter, columns: hidden)
            try checkpoint.read(prefix + "mlp.gate_proj.weight", shape: [inter, hidden], into: gateUp.storage.pointer)
            try checkpoint.read(prefix + "mlp.up_proj.weight", shape: [inter, hidden], into: gateUp.storage.pointer + inter * hidden)
            return BlockWeights(
                attentionNorm: try checkpoint.buffer(prefix + "input_layernorm.weight", shape: [hidden]),
                qkv: qkv, qkvBias: bias,
                output: Matrix(rows: hidden, columns: qRows,
                               storage: try checkpoint.buffer(prefix + "self_attn.o_proj.weight", shape: [hidden, qRows])),
                mlpNorm: try checkpoint.buffer(prefix + "post_attention_layernorm.weight", shape: [hidden]),
                gateUp: gateUp,
                down: Matrix(rows: hidden, columns: inter,
                             storage: try checkpoint.buffer(prefix + "mlp.down_proj.weight", shape: [hidden, inter])))
        }
        finalNorm = try checkpoint.buffer("model.norm.weight", shape: [hidden])
        let vocabShape = [config.vocabularySize, hidden]
        embeddings = Matrix(rows: config.vocabularySize, columns: hidden,
                            storage: try checkpoint.buffer(Self.embeddingName(checkpoint), shape: vocabShape))
        if Self.headIsTied(config: config, checkpoint: checkpoint) {
            lmHead = embeddings
        } else {
            lmHead = Matrix(rows: config.vocabularySize, columns: hidden, storage: try checkpoint.buffer("lm_head.weight", shape: vocabShape))
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
        let qRows = config.heads * config.headDimension
        let kvRows = config.kvHeads * config.headDimension
        let inter = config.intermediateSize
        var tensors: [(name: String, shape: [Int])] = []
        for layer in 0..<config.layers {
            let prefix = "model.layers.\(layer)."
            tensors += [(prefix + "self_attn.q_proj.weight", [qRows, hidden]), (prefix + "self_attn.k_proj.weight", [kvRows, hidden]),
                        (prefix + "self_attn.v_proj.weight", [kvRows, hidden])]
            if config.attentionBias {
                tensors += [(prefix + "self_attn.q_proj.bias", [qRows]), (prefix + "self_attn.k_proj.bias", [kvRows]),
                            (prefix + "self_attn.v_proj.bias", [kvRows])]
            }
            tensors += [(prefix + "mlp.gate_proj.weight", [inter, hidden]), (prefix + "mlp.up_proj.weight", [inter, hidden]),
                        (prefix + "input_layernorm.weight", [hidden]), (prefix + "self_attn.o_proj.weight", [hidden, qRows]),
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
