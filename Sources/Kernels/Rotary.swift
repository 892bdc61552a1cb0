#if canImport(Glibc)
import Glibc
#endif

/// How a checkpoint scales RoPE frequencies. Every case here composes: rotating by `a` then by `b`
/// equals rotating by `a + b`, which is what lets a cache move keys between positions.
public enum RopeScaling: Sendable, Equatable {
    case none
    /// Position interpolation: every frequency divided by `factor`.
    case linear(factor: Double)
    /// Llama 3.1/3.2: low frequencies divided by `factor`, high ones kept, a smooth blend between.
    case llama3(factor: Double, lowFrequencyFactor: Double, highFrequencyFactor: Double, originalContext: Int)
    /// Dynamic NTK: the base grows with the sequence once it passes `originalContext`. Within the original
    /// context it equals unscaled RoPE (what this engine runs); its rotations do not compose across a length
    /// change, so caches refuse to shift under it.
    case dynamic(factor: Double, originalContext: Int)

    /// Whether rotating by `a` then `b` equals rotating by `a + b` at every position.
    public var composes: Bool {
        if case .dynamic = self { return false }
        return true
    }

    /// Positions this scaling supports: dynamic NTK only within its original context.
    public var positionLimit: Int {
        if case .dynamic(_, let original) = self { return original }
        return RotaryEmbedding.maximumPosition
    }
}

/// Rotary position embedding in the Hugging Face half-split ("NEOX") layout: for a head vector `x` of
/// width `d`, pair `(x[i], x[i + d/2])` rotates by angle `position * inverseFrequencies[i]`.
///
/// Angles are formed and their sine and cosine taken in double precision, so a position of 100,000 is
/// as exact as a position of 10. Ports `LlamaRotaryEmbedding` / `rotate_half` from transformers.
public struct RotaryEmbedding: Sendable, Equatable {
    /// Width of one head vector, `d`.
    public let headDimension: Int
    /// `[d/2]` angular frequencies in radians per position.
    public let inverseFrequencies: [Double]

    /// Positions are stored as Int32 metadata; 2^24 tokens is far past any context this engine serves.
    public static let maximumPosition = 1 << 24

    /// How the frequencies were scaled.
    public let scaling: RopeScaling

    public init(headDimension: Int, theta: Double, scaling: RopeScaling = .none) {
        self.headDimension = headDimension
        self.scaling = scaling
        let half = headDimension / 2
        var frequencies = (0..<half).map { 1 / pow(theta, Double(2 * $0) / Double(headDimension)) }
        switch scaling {
        case .none, .dynamic:
            break
        case .linear(let factor):
            frequencies = frequencies.map { $0 / factor }
        case .llama3(let factor, let low, let high, let original):
            let lowWavelength = Double(original) / low
            let highWavelength = Double(original) / high
            frequencies = frequencies.map { frequency in
                let wavelength = 2 * Double.pi / frequency
                if wavelength < highWavelength { return frequency }
                if wavelength > lowWavelength { return frequency / factor }
                let smooth = (Double(original) / wavelength - low) / (high - low)
                return (1 - smooth) * frequency / factor + smooth * frequency
            }
        }
        inverseFrequencies = frequencies
    }

    /// Fills the cosine and sine tables for `positions` (any integers, negative allowed: a rotation by a delta).
    /// - cos, sin: `[positions.count, d/2]`.
    public func table(positions: UnsafeBufferPointer<Int>, cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>) {
        let half = headDimension / 2
        inverseFrequencies.withUnsafeBufferPointer { frequencies in
            for (row, position) in positions.enumerated() {
                let p = Double(position)
                for i in 0..<half {
                    let angle = p * frequencies[i]
                    cos[row * half + i] = Float(Glibc.cos(angle))
                    sin[row * half + i] = Float(Glibc.sin(angle))
                }
            }
        }
    }

    /// Rotates `rows` rows of `heads` head vectors in place; row `r` uses table row `r`, or table row 0
    /// for every row when `sameAngles` (a shift by one delta).
    /// - x: `[rows, heads, d]` with row stride `rowStride` floats; cos, sin: `[rows, d/2]` (or `[1, d/2]`).
    public func rotate(_ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, rowStride: Int,
                       cos: UnsafePointer<Float>, sin: UnsafePointer<Float>, sameAngles: Bool = false) {
        Self.rotate(x, rows: rows, heads: heads, headDimension: headDimension, rowStride: rowStride, cos: cos, sin: sin,
                    sameAngles: sameAngles)
    }

    /// `rotate` for a head width given explicitly (no frequencies needed: the table holds the angles).
    public static func rotate(_ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, headDimension: Int, rowStride: Int,
                              cos: UnsafePointer<Float>, sin: UnsafePointer<Float>, sameAngles: Bool = false) {
        let half = headDimension / 2
        for r in 0..<rows {
            let c = cos + (sameAngles ? 0 : r * half)
            let s = sin + (sameAngles ? 0 : r * half)
            for h in 0..<heads {
                let v = x + r * rowStride + h * headDimension
                for i in 0..<half {
                    let a = v[i]
                    let b = v[i + half]
                    v[i] = a * c[i] - b * s[i]
                    v[i + half] = b * c[i] + a * s[i]
                }
            }
        }
    }
}

/// Cosine and sine of every angle for a list of positions, computed once per forward pass and shared by
/// every layer's queries and keys. cos, sin: `[rows, d/2]`. Do not escape the pointers past the owner.
public struct RotationTable {
    public let rows: Int
    public let cos: UnsafePointer<Float>
    public let sin: UnsafePointer<Float>

    public init(rows: Int, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>) {
        self.rows = rows
        self.cos = cos
        self.sin = sin
    }
}
