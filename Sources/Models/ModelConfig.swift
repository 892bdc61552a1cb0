import Foundation
import Kernels

/// The architectures this engine runs. All three are the Llama block (RMSNorm, GQA attention with RoPE,
/// SwiGLU MLP); they differ in defaults: Qwen2 has q/k/v biases, Mistral may use a sliding window.
public enum Architecture: String, Sendable, Codable {
    case llama = "LlamaForCausalLM"
    case mistral = "MistralForCausalLM"
    case qwen2 = "Qwen2ForCausalLM"
}

/// A Hugging Face `config.json` for a Llama-family causal LM, validated on decode.
///
/// Accepts both RoPE forms real checkpoints use: `rope_theta` + `rope_scaling` (older) and
/// `rope_parameters` (transformers 5). Invalid or unsupported values throw `ModelError.invalidConfig`
/// naming the field.
public struct ModelConfig: Sendable, Equatable {
    public var architecture: Architecture
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layers: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDimension: Int
    public var rmsNormEpsilon: Float
    public var vocabularySize: Int
    public var tieWordEmbeddings: Bool
    public var attentionBias: Bool
    public var maxPositionEmbeddings: Int
    public var ropeTheta: Double
    public var ropeScaling: RopeScaling
    /// Sliding attention window in tokens, when the model uses one.
    public var slidingWindow: Int?
    public var bosTokenID: Int?
    public var eosTokenIDs: [Int]

    public init(architecture: Architecture = .llama, hiddenSize: Int, intermediateSize: Int, layers: Int, heads: Int,
                kvHeads: Int, headDimension: Int? = nil, rmsNormEpsilon: Float = 1e-5, vocabularySize: Int,
                tieWordEmbeddings: Bool = false, attentionBias: Bool = false, maxPositionEmbeddings: Int = 2048,
                ropeTheta: Double = 10_000, ropeScaling: RopeScaling = .none, slidingWindow: Int? = nil,
                bosTokenID: Int? = 1, eosTokenIDs: [Int] = [2], file: String = "config.json") throws {
        self.architecture = architecture
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.layers = layers
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDimension = headDimension ?? (heads > 0 ? hiddenSize / heads : 0)
        self.rmsNormEpsilon = rmsNormEpsilon
        self.vocabularySize = vocabularySize
        self.tieWordEmbeddings = tieWordEmbeddings
        self.attentionBias = attentionBias
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.ropeTheta = ropeTheta
        self.ropeScaling = ropeScaling
        self.slidingWindow = slidingWindow
        self.bosTokenID = bosTokenID
        self.eosTokenIDs = eosTokenIDs
        try validate(file: file)
    }

    /// Width of the fused q, k, v projection output: `(heads + 2 kvHeads) * headDimension`.
    public var qkvWidth: Int { (heads + 2 * kvHeads) * headDimension }

    /// The RoPE this config describes.
    public var rotary: RotaryEmbedding {
        RotaryEmbedding(headDimension: headDimension, theta: ropeTheta, scaling: ropeScaling)
    }

    /// Parameters in the checkpoint (tied embeddings counted once).
    public var parameterCount: Int {
        let attention = hiddenSize * qkvWidth + heads * headDimension * hiddenSize
        let mlp = 3 * hiddenSize * intermediateSize
        let perLayer = attention + mlp + 2 * hiddenSize + (attentionBias ? qkvWidth : 0)
        let embeddings = vocabularySize * hiddenSize * (tieWordEmbeddings ? 1 : 2)
        return layers * perLayer + embeddings + hiddenSize
    }

    func validate(file: String) throws {
        func positive(_ value: Int, _ field: String) throws {
            guard value > 0 else { throw ModelError.invalidConfig(file: file, field: field, reason: "must be > 0, found \(value)") }
        }
        try positive(hiddenSize, "hidden_size")
        try positive(intermediateSize, "intermediate_size")
        try positive(layers, "num_hidden_layers")
        try positive(heads, "num_attention_heads")
        try positive(kvHeads, "num_key_value_heads")
        try positive(headDimension, "head_dim")
        try positive(vocabularySize, "vocab_size")
        try positive(maxPositionEmbeddings, "max_position_embeddings")
        guard heads % kvHeads == 0 else {
            throw ModelError.invalidConfig(file: file, field: "num_key_value_heads",
                                           reason: "must divide num_attention_heads (\(heads)), found \(kvHeads)")
        }
        guard headDimension % 2 == 0 else {
            throw ModelError.invalidConfig(file: file, field: "head_dim", reason: "must be even for RoPE, found \(headDimension)")
        }
        guard ropeTheta > 0, ropeTheta.isFinite else {
            throw ModelError.invalidConfig(file: file, field: "rope_theta", reason: "must be a positive number, found \(ropeTheta)")
        }
        guard rmsNormEpsilon >= 0, rmsNormEpsilon.isFinite else {
            throw ModelError.invalidConfig(file: file, field: "rms_norm_eps", reason: "must be >= 0, found \(rmsNormEpsilon)")
        }
        if let slidingWindow { try positive(slidingWindow, "sliding_window") }
        for id in eosTokenIDs + (bosTokenID.map { [$0] } ?? []) where id < 0 || id >= vocabularySize {
            throw ModelError.invalidConfig(file: file, field: "bos_token_id/eos_token_id",
                                           reason: "id \(id) is outside the vocabulary [0, \(vocabularySize))")
        }
        switch ropeScaling {
        case .none: break
        case .linear(let factor):
            guard factor > 0 else { throw ModelError.invalidConfig(file: file, field: "rope_scaling.factor", reason: "must be > 0") }
        case let .dynamic(factor, original):
            guard factor > 0, original > 0 else {
                throw ModelError.invalidConfig(file: file, field: "rope_scaling", reason: "dynamic needs factor > 0 and a positive original context")
            }
        case let .llama3(factor, low, high, original):
            guard factor > 0, low > 0, high > low, original > 0 else {
                throw ModelError.invalidConfig(file: file, field: "rope_scaling",
                                               reason: "llama3 needs factor > 0, 0 < low_freq_factor < high_freq_factor, original_max_position_embeddings > 0")
            }
        }
    }
}
