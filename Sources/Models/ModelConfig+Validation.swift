import Kernels

/// The checks `ModelConfig.init` runs, in order: sizes against their bounds, the head dimension, RoPE,
/// the remaining fields, then the parameter bytes (overflow-checked). Each failure names file and field.
struct ConfigCheck {
    let file: String

    func fail(_ field: String, _ reason: String) -> ModelError {
        ModelError.invalidConfig(file: file, field: field, reason: reason)
    }

    func bounded(_ value: Int, _ field: String, max limit: Int) throws {
        guard value > 0 else { throw fail(field, "must be > 0, found \(value)") }
        guard value <= limit else { throw fail(field, "must be at most \(limit), found \(value)") }
    }

    func sizes(hiddenSize: Int, intermediateSize: Int, layers: Int, heads: Int, kvHeads: Int, vocabularySize: Int,
               maxPositionEmbeddings: Int) throws {
        typealias Limits = ModelConfig.Limits
        try bounded(hiddenSize, "hidden_size", max: Limits.hiddenSize)
        try bounded(intermediateSize, "intermediate_size", max: Limits.intermediateSize)
        try bounded(layers, "num_hidden_layers", max: Limits.layers)
        try bounded(heads, "num_attention_heads", max: Limits.heads)
        try bounded(kvHeads, "num_key_value_heads", max: Limits.heads)
        try bounded(vocabularySize, "vocab_size", max: Limits.vocabularySize)
        try bounded(maxPositionEmbeddings, "max_position_embeddings", max: Limits.maxPositionEmbeddings)
        guard heads % kvHeads == 0 else {
            throw fail("num_key_value_heads", "must divide num_attention_heads (\(heads)), found \(kvHeads)")
        }
    }

    /// `head_dim` when given, else `hidden_size / num_attention_heads`, which must then divide exactly.
    func headDimension(_ given: Int?, hiddenSize: Int, heads: Int) throws -> Int {
        if let given {
            try bounded(given, "head_dim", max: ModelConfig.Limits.headDimension)
            guard given % 2 == 0 else { throw fail("head_dim", "must be even for RoPE, found \(given)") }
            return given
        }
        guard hiddenSize % heads == 0 else {
            throw fail("num_attention_heads", "(\(heads)) must divide hidden_size (\(hiddenSize)) when the config has no head_dim")
        }
        let derived = hiddenSize / heads
        guard derived % 2 == 0 else {
            throw fail("hidden_size", "(\(hiddenSize)) / num_attention_heads (\(heads)) = \(derived) is the head dimension "
                                      + "(the config has no head_dim) and must be even for RoPE")
        }
        return derived
    }

    func rope(theta: Double, scaling: RopeScaling) throws {
        guard theta > 0, theta.isFinite else { throw fail("rope_theta", "must be a positive number, found \(theta)") }
        func factor(_ value: Double, _ field: String) throws {
            guard value > 0, value.isFinite else { throw fail(field, "must be a positive number, found \(value)") }
        }
        func context(_ value: Int) throws {
            try bounded(value, "rope_scaling.original_max_position_embeddings", max: ModelConfig.Limits.maxPositionEmbeddings)
        }
        switch scaling {
        case .none: break
        case .linear(let value):
            try factor(value, "rope_scaling.factor")
        case let .dynamic(value, original):
            try factor(value, "rope_scaling.factor")
            try context(original)
        case let .llama3(value, low, high, original):
            try factor(value, "rope_scaling.factor")
            try factor(low, "rope_scaling.low_freq_factor")
            try factor(high, "rope_scaling.high_freq_factor")
            guard high > low else {
                throw fail("rope_scaling.high_freq_factor", "must exceed low_freq_factor (\(low)), found \(high)")
            }
            try context(original)
        }
    }

    func rest(rmsNormEpsilon: Float, slidingWindow: Int?, bosTokenID: Int?, eosTokenIDs: [Int], vocabularySize: Int) throws {
        guard rmsNormEpsilon >= 0, rmsNormEpsilon.isFinite else {
            throw fail("rms_norm_eps", "must be a finite number >= 0, found \(rmsNormEpsilon)")
        }
        if let slidingWindow { try bounded(slidingWindow, "sliding_window", max: ModelConfig.Limits.maxPositionEmbeddings) }
        if let bosTokenID, bosTokenID < 0 || bosTokenID >= vocabularySize {
            throw fail("bos_token_id", "id \(bosTokenID) is outside the vocabulary [0, \(vocabularySize))")
        }
        for id in eosTokenIDs where id < 0 || id >= vocabularySize {
            throw fail("eos_token_id", "id \(id) is outside the vocabulary [0, \(vocabularySize))")
        }
    }

    /// Parameters in the checkpoint, every product overflow-checked, and their f32 bytes bounded.
    /// - keyDimension, valueDimension: per-head widths of q/k and v (the head dimension unless pruned).
    func parameterCount(hiddenSize: Int, intermediateSize: Int, layers: Int, heads: Int, kvHeads: Int, keyDimension: Int,
                        valueDimension: Int, vocabularySize: Int, tied: Bool, bias: Bool) throws -> Int {
        let tooLarge = fail("(parameters)", "the sizes imply more than \(ModelConfig.Limits.parameterBytes) bytes of f32 weights")
        func product(_ factors: Int...) throws -> Int {
            try factors.reduce(1) { partial, factor in
                let (value, overflow) = partial.multipliedReportingOverflow(by: factor)
                guard !overflow else { throw tooLarge }
                return value
            }
        }
        func sum(_ terms: Int...) throws -> Int {
            try terms.reduce(0) { partial, term in
                let (value, overflow) = partial.addingReportingOverflow(term)
                guard !overflow else { throw tooLarge }
                return value
            }
        }
        let qkvWidth = try sum(try product(try sum(heads, kvHeads), keyDimension), try product(kvHeads, valueDimension))
        let attention = try sum(try product(hiddenSize, qkvWidth), try product(heads, valueDimension, hiddenSize))
        let mlp = try product(3, hiddenSize, intermediateSize)
        let perLayer = try sum(attention, mlp, try product(2, hiddenSize), bias ? qkvWidth : 0)
        let embeddings = try product(vocabularySize, hiddenSize, tied ? 1 : 2)
        let total = try sum(try product(layers, perLayer), embeddings, hiddenSize)
        guard try product(total, 4) <= ModelConfig.Limits.parameterBytes else { throw tooLarge }
        return total
    }
}
