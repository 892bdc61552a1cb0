import Kernels

/// The SwiGLU MLP: `down(silu(gate(x)) * up(x))`, gate and up fused into one matrix.
struct LlamaMLP {
    let config: ModelConfig

    /// `normed` `[rows, hidden]` -> `projected` `[rows, hidden]`; gateUp `[rows, 2 inter]` and activated
    /// `[rows, inter]` are scratch; `panel` is scratch for 16-bit weights.
    func callAsFunction(_ normed: UnsafePointer<Float>, rows: Int, weights: BlockWeights, gateUp: UnsafeMutablePointer<Float>,
                        activated: UnsafeMutablePointer<Float>, into projected: UnsafeMutablePointer<Float>, panel: inout Scratch) {
        weights.gateUp.apply(normed, count: rows, into: gateUp, panel: &panel)
        Elementwise.swiGLU(gateUp, rows: rows, width: config.intermediateSize, into: activated)
        weights.down.apply(activated, count: rows, into: projected, panel: &panel)
    }
}
