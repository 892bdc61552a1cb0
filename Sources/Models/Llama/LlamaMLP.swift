import Kernels

/// The SwiGLU MLP: `down(silu(gate(x)) * up(x))`, gate and up fused into one matrix.
struct LlamaMLP {
    let config: ModelConfig

    /// `normed` `[rows, hidden]` -> `projected` `[rows, hidden]`; gateUp `[rows, 2 inter]` and activated
    /// `[rows, inter]` are scratch.
    func callAsFunction(_ normed: UnsafePointer<Float>, rows: Int, weights: BlockWeights, gateUp: UnsafeMutablePointer<Float>,
                        activated: UnsafeMutablePointer<Float>, into projected: UnsafeMutablePointer<Float>) {
        weights.gateUp.apply(normed, count: rows, into: gateUp)
        Elementwise.swiGLU(gateUp, rows: rows, width: config.intermediateSize, into: activated)
        weights.down.apply(activated, count: rows, into: projected)
    }
}
