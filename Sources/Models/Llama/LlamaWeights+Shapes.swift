import Kernels

extension LlamaWeights {
    /// Throws `ModelError.shapeMismatch` naming the first tensor whose shape is not what `config` says, so
    /// that a model is never built from weights it would read out of bounds (`LlamaModel.init`).
    func checkShapes(against config: ModelConfig) throws {
        let hidden = config.hiddenSize
        let oColumns = config.heads * config.valueDimension
        func matrix(_ name: String, _ matrix: Matrix, _ rows: Int, _ columns: Int) throws {
            guard matrix.rows == rows, matrix.columns == columns else {
                throw ModelError.shapeMismatch(file: "weights", tensor: name, expected: [rows, columns], found: [matrix.rows, matrix.columns])
            }
        }
        func vector(_ name: String, _ buffer: FloatBuffer?, _ count: Int) throws {
            let found = buffer?.count ?? 0
            guard found >= count else { throw ModelError.shapeMismatch(file: "weights", tensor: name, expected: [count], found: [found]) }
        }
        try matrix("model.embed_tokens.weight", embeddings, config.vocabularySize, hidden)
        try matrix("lm_head.weight", lmHead, config.vocabularySize, hidden)
        try vector("model.norm.weight", finalNorm, hidden)
        guard blocks.count == config.layers else {
            throw ModelError.shapeMismatch(file: "weights", tensor: "model.layers", expected: [config.layers], found: [blocks.count])
        }
        for (layer, block) in blocks.enumerated() {
            let prefix = "model.layers.\(layer)."
            try vector(prefix + "input_layernorm.weight", block.attentionNorm, hidden)
            try vector(prefix + "post_attention_layernorm.weight", block.mlpNorm, hidden)
            try matrix(prefix + "self_attn.qkv", block.qkv, config.qkvWidth, hidden)
            if config.attentionBias { try vector(prefix + "self_attn.qkv.bias", block.qkvBias, config.qkvWidth) }
            try matrix(prefix + "self_attn.o_proj.weight", block.output, hidden, oColumns)
            try matrix(prefix + "mlp.gate_up", block.gateUp, 2 * config.intermediateSize, hidden)
            try matrix(prefix + "mlp.down_proj.weight", block.down, hidden, config.intermediateSize)
        }
    }
}
