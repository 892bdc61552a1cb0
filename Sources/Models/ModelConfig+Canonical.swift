import Kernels

extension ModelConfig {
    /// Every field, one `name=value` line each in a fixed order, numbers in their shortest exact form:
    /// what the model fingerprint hashes. Two configs have the same text exactly when they are equal.
    public var canonicalDescription: String {
        func optional(_ value: Int?) -> String { value.map(String.init) ?? "none" }
        let scaling: String
        switch ropeScaling {
        case .none: scaling = "none"
        case .linear(let factor): scaling = "linear(factor=\(factor))"
        case let .dynamic(factor, original): scaling = "dynamic(factor=\(factor),original_max_position_embeddings=\(original))"
        case let .llama3(factor, low, high, original):
            scaling = "llama3(factor=\(factor),low_freq_factor=\(low),high_freq_factor=\(high),original_max_position_embeddings=\(original))"
        }
        let lines = [
            "reanchor-config-v1",
            "architecture=\(architecture.rawValue)",
            "hidden_size=\(hiddenSize)",
            "intermediate_size=\(intermediateSize)",
            "num_hidden_layers=\(layers)",
            "num_attention_heads=\(heads)",
            "num_key_value_heads=\(kvHeads)",
            "head_dim=\(headDimension)",
            "rms_norm_eps=\(rmsNormEpsilon)",
            "vocab_size=\(vocabularySize)",
            "tie_word_embeddings=\(tieWordEmbeddings)",
            "attention_bias=\(attentionBias)",
            "max_position_embeddings=\(maxPositionEmbeddings)",
            "rope_theta=\(ropeTheta)",
            "rope_scaling=\(scaling)",
            "sliding_window=\(optional(slidingWindow))",
            "bos_token_id=\(optional(bosTokenID))",
            "eos_token_id=\(eosTokenIDs.map(String.init).joined(separator: ","))",
        ]
        // An unpruned config's text is unchanged; a pruned one adds a line, so the two never share a fingerprint.
        return (lines + (pruning.map { [$0.canonicalDescription] } ?? [])).joined(separator: "\n")
    }
}
