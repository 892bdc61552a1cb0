import Foundation
import Kernels

/// The architectures this engine runs. All three are the Llama block (RMSNorm, GQA attention with RoPE,
/// SwiGLU MLP); they differ in defaults: Qwen2 has q/k/v biases, Mistral may use a sliding window.
public enum Architecture: String, Sendable, Codable {
    case llama = "LlamaForCausalLM"
    case mistral = "MistralForCausalLM"
    case qwen2 = "Qwen2ForCausalLM"
}

/// A Hugging Face `config.json` for a Llama-family causal LM: immutable, validated in `init`.
///
/// Accepts both RoPE forms real checkpoints use: `rope_theta` + `rope_scaling` (older) and
/// `rope_parameters` (transformers 5). Every size is checked against an upper bound (`ModelConfig.Limits`)
/// and the total parameter bytes are computed with overflow checks before anything is allocated, so a
/// config can never make the loader allocate more than the limits allow. Invalid or unsupported values
/// throw `ModelError.invalidConfig` naming the file and the field.
public struct ModelConfig: Sendable, Equatable {
    public let architecture: Architecture
    public let hiddenSize: Int
    public let intermediateSize: Int
    public let layers: Int
    public let heads: Int
    public let kvHeads: Int
    /// Per-head width: `head_dim`, or `hidden_size / num_attention_heads` when the file has none.
    public let headDimension: Int
    public let rmsNormEpsilon: Float
    public let vocabularySize: Int
    public let tieWordEmbeddings: Bool
    public let attentionBias: Bool
    public let maxPositionEmbeddings: Int
    public let ropeTheta: Double
    public let ropeScaling: RopeScaling
    /// Sliding attention window in tokens, when the model uses one: a query at position `p` sees keys at
    /// positions `p - slidingWindow + 1 ... p` (transformers' Mistral mask).
    public let slidingWindow: Int?
    public let bosTokenID: Int?
    public let eosTokenIDs: [Int]
    /// The kept RoPE pairs and value channels of a RoPE-aligned pruned checkpoint, or nil.
    public let pruning: RopePruning?
    /// Parameters in the checkpoint (tied embeddings counted once), computed with overflow checks.
    public let parameterCount: Int

    /// Validates every field (see `ModelConfig.Limits`); `file` names the source in errors.
    /// - headDimension: nil derives it as `hiddenSize / heads`, which then must divide exactly.
    public init(architecture: Architecture = .llama, hiddenSize: Int, intermediateSize: Int, layers: Int, heads: Int,
                kvHeads: Int, headDimension: Int? = nil, rmsNormEpsilon: Float = 1e-5, vocabularySize: Int,
                tieWordEmbeddings: Bool = false, attentionBias: Bool = false, maxPositionEmbeddings: Int = 2048,
                ropeTheta: Double = 10_000, ropeScaling: RopeScaling = .none, slidingWindow: Int? = nil,
                bosTokenID: Int? = 1, eosTokenIDs: [Int] = [2], pruning: RopePruning? = nil, file: String = "config.json") throws {
        let check = ConfigCheck(file: file)
        try check.sizes(hiddenSize: hiddenSize, intermediateSize: intermediateSize, layers: layers, heads: heads,
                        kvHeads: kvHeads, vocabularySize: vocabularySize, maxPositionEmbeddings: maxPositionEmbeddings)
        let derivedHeadDimension = try check.headDimension(headDimension, hiddenSize: hiddenSize, heads: heads)
        try check.rope(theta: ropeTheta, scaling: ropeScaling)
        try check.rest(rmsNormEpsilon: rmsNormEpsilon, slidingWindow: slidingWindow, bosTokenID: bosTokenID,
                       eosTokenIDs: eosTokenIDs, vocabularySize: vocabularySize)
        try pruning?.validate(layers: layers, kvHeads: kvHeads, headDimension: derivedHeadDimension, file: file)
        self.architecture = architecture
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.layers = layers
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDimension = derivedHeadDimension
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
        self.pruning = pruning
        parameterCount = try check.parameterCount(hiddenSize: hiddenSize, intermediateSize: intermediateSize, layers: layers,
                                                  heads: heads, kvHeads: kvHeads,
                                                  keyDimension: pruning?.keyDimension ?? derivedHeadDimension,
                                                  valueDimension: pruning?.valueDimension ?? derivedHeadDimension,
                                                  vocabularySize: vocabularySize, tied: tieWordEmbeddings, bias: attentionBias)
    }

    /// A copy with another context window (e.g. a benchmark's `--context`), validated again.
    public func with(maxPositionEmbeddings: Int) throws -> ModelConfig {
        try ModelConfig(architecture: architecture, hiddenSize: hiddenSize, intermediateSize: intermediateSize, layers: layers,
                        heads: heads, kvHeads: kvHeads, headDimension: headDimension, rmsNormEpsilon: rmsNormEpsilon,
                        vocabularySize: vocabularySize, tieWordEmbeddings: tieWordEmbeddings, attentionBias: attentionBias,
                        maxPositionEmbeddings: maxPositionEmbeddings, ropeTheta: ropeTheta, ropeScaling: ropeScaling,
                        slidingWindow: slidingWindow, bosTokenID: bosTokenID, eosTokenIDs: eosTokenIDs, pruning: pruning)
    }

    /// A copy that keeps what `pruning` lists (nil: unpruned), validated again.
    public func with(pruning: RopePruning?) throws -> ModelConfig {
        try ModelConfig(architecture: architecture, hiddenSize: hiddenSize, intermediateSize: intermediateSize, layers: layers,
                        heads: heads, kvHeads: kvHeads, headDimension: headDimension, rmsNormEpsilon: rmsNormEpsilon,
                        vocabularySize: vocabularySize, tieWordEmbeddings: tieWordEmbeddings, attentionBias: attentionBias,
                        maxPositionEmbeddings: maxPositionEmbeddings, ropeTheta: ropeTheta, ropeScaling: ropeScaling,
                        slidingWindow: slidingWindow, bosTokenID: bosTokenID, eosTokenIDs: eosTokenIDs, pruning: pruning)
    }

    /// Width of one head's query and key: `headDimension`, or `2 S` (rotation slots) when pruned.
    public var keyDimension: Int { pruning?.keyDimension ?? headDimension }

    /// Width of one head's value (and of its slice of the attention output): `headDimension`, or the kept
    /// value channels when pruned.
    public var valueDimension: Int { pruning?.valueDimension ?? headDimension }

    /// Width of the fused q, k, v projection output: `heads dk + kvHeads (dk + dv)`
    /// (bounded by the limits checked in `init`).
    public var qkvWidth: Int { (heads + kvHeads) * keyDimension + kvHeads * valueDimension }

    /// The RoPE this config describes: per-layer, per-head kept-frequency tables when pruned (a lone
    /// channel's slot rotates at its pair's frequency).
    public var rotary: RotaryEmbedding {
        let full = RotaryEmbedding(headDimension: headDimension, theta: ropeTheta, scaling: ropeScaling)
        guard let pruning else { return full }
        return full.keeping(pairs: pruning.rotarySlots(headDimension: headDimension))
    }
}
