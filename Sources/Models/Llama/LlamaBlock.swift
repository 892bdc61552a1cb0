import Cache
import Kernels

/// One decoder block: `x += attention(norm(x)); x += mlp(norm(x))`.
struct LlamaBlock {
    let config: ModelConfig
    let attention: LlamaAttention
    let mlp: LlamaMLP

    init(config: ModelConfig, rotary: RotaryEmbedding) {
        self.config = config
        attention = LlamaAttention(config: config, rotary: rotary)
        mlp = LlamaMLP(config: config)
    }

    /// The attention half after `project`: writes K/V, attends, adds to the residual `x` `[rows, hidden]`.
    func finishAttention(x: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>, rows: Int, layer: Int, cells: [Int],
                         segments: [RowSegment], positions: [[Int32]], cache: KVCache, weights: BlockWeights, workspace w: Workspace,
                         cos: UnsafePointer<Float>, sin: UnsafePointer<Float>, captureWeights: Bool) -> [Float] {
        let hidden = config.hiddenSize
        let qWidth = config.heads * config.keyDimension
        let projected = w.projected.reserve(rows * hidden)
        let captured = attention.attend(qkv: qkv, rows: rows, layer: layer, cells: cells, segments: segments, positions: positions,
                                        cache: cache, weights: weights, cos: cos, sin: sin,
                                        queries: w.queries.reserve(rows * qWidth), attended: w.attended.reserve(rows * config.heads * config.valueDimension),
                                        projected: projected, captureWeights: captureWeights, panel: &w.panel)
        Elementwise.add(projected, into: x, count: rows * hidden)
        return captured
    }

    /// The MLP half: `x += mlp(norm(x))`.
    func finishMLP(x: UnsafeMutablePointer<Float>, rows: Int, weights: BlockWeights, workspace w: Workspace) {
        let hidden = config.hiddenSize
        let normed = w.normed.reserve(rows * hidden)
        Elementwise.rmsNorm(x, weight: weights.mlpNorm.pointer, rows: rows, width: hidden, epsilon: config.rmsNormEpsilon, into: normed)
        let projected = w.projected.reserve(rows * hidden)
        mlp(normed, rows: rows, weights: weights, gateUp: w.gateUp.reserve(rows * 2 * config.intermediateSize),
            activated: w.activated.reserve(rows * config.intermediateSize), into: projected, panel: &w.panel)
        Elementwise.add(projected, into: x, count: rows * hidden)
    }
}
