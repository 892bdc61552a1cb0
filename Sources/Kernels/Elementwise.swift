import CKernels

/// Small vector kernels: RMSNorm, SwiGLU, residual add, bias add.
/// Each loop is written over contiguous rows so the compiler vectorises it (built with a target CPU).
public enum Elementwise {
    /// RMSNorm as in Llama: `y = x / sqrt(mean(x²) + eps) * weight`, per row.
    /// - x, y: `[rows, width]` (may alias); weight: `[width]`.
    public static func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, rows: Int, width: Int,
                               epsilon: Float, into y: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let row = x + r * width
            let out = y + r * width
            var sum: Float = 0
            for i in 0..<width { sum += row[i] * row[i] }
            let scale = 1 / (sum / Float(width) + epsilon).squareRoot()
            for i in 0..<width { out[i] = row[i] * scale * weight[i] }
        }
    }

    /// SwiGLU on a fused `[gate | up]` projection: `out[r, i] = silu(gate[r, i]) * up[r, i]`.
    /// - gateUp: `[rows, 2 * width]`; out: `[rows, width]`.
    public static func swiGLU(_ gateUp: UnsafePointer<Float>, rows: Int, width: Int, into out: UnsafeMutablePointer<Float>) {
        ck_swiglu(gateUp, Int32(rows), Int32(width), out)
    }

    /// `y[i] += x[i]` for `count` elements.
    public static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] += x[i] }
    }

    /// Adds `bias` (`[width]`) to each of `rows` rows of `y` (`[rows, width]`).
    public static func addBias(_ bias: UnsafePointer<Float>, rows: Int, width: Int, into y: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let row = y + r * width
            for i in 0..<width { row[i] += bias[i] }
        }
    }

    /// In-place softmax over `count` values; entries equal to `-infinity` get probability 0.
    public static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
        ck_softmax(x, Int32(count))
    }

    /// In-place softmax of each of the first `rows` rows of `width` values of `x` (`[rows, width]`, row-major).
    public static func softmaxRows(_ x: inout [Float], rows: Int, width: Int) {
        guard rows > 0, width > 0 else { return }
        precondition(rows * width <= x.count, "softmaxRows: \(rows) x \(width) exceeds \(x.count) values")
        x.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            for row in 0..<rows { ck_softmax(base + row * width, Int32(width)) }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
