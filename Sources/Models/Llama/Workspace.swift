import Kernels

/// Scratch buffers for one forward pass, allocated on first use and reused, so that steady-state decode
/// allocates nothing. Sizes in floats for `T` tokens.
final class Workspace {
    var hidden = Scratch()      // x: [T, hidden]
    var normed = Scratch()      // [T, hidden]
    var qkv = Scratch()         // [T, (heads + 2 kvHeads) d]
    var queries = Scratch()     // [T, heads d] rotated queries, packed
    var attended = Scratch()    // [T, heads d] attention output
    var projected = Scratch()   // [T, hidden]
    var gateUp = Scratch()      // [T, 2 intermediate]
    var activated = Scratch()   // [T, intermediate]
    var scores = Scratch()      // Attention.scratchCount: decode scores and partials, or prefill tiles
    var rotatedKeys = Scratch() // [cells, kvHeads d] pre-RoPE prefill only
    var cos = Scratch()         // [T, d/2]
    var sin = Scratch()         // [T, d/2]
    var positions: [Int32] = [] // [T]
    var panel = Scratch()       // [panel rows, columns] 16-bit weights widened for one sgemm
}
