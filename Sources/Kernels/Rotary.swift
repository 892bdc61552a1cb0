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
/// A RoPE-aligned pruned model (`keeping(pairs:)`) keeps, per layer and KV head, a subset of the pairs,
/// each with its original frequency: its head vectors are `2 P` wide (`P` kept pairs, kept pair `j` is
/// `(x[j], x[j + P])`) and its angle tables hold one `P`-wide entry per layer and KV head. Query heads use
/// the entry of their KV head. Unpruned, there is one entry shared by every layer and head.
///
/// Angles are formed and their sine and cosine taken in double precision, so a position of 100,000 is
/// as exact as a position of 10. Ports `LlamaRotaryEmbedding` / `rotate_half` from transformers.
public struct RotaryEmbedding: Sendable, Equatable {
    /// Width of one rotated head vector: the model's `d`, or `2 P` when pruned.
    public let headDimension: Int
    /// `[D/2]` angular frequencies in radians per position of the unpruned head of width `D`.
    public let inverseFrequencies: [Double]
    /// Pruned only: `[layers, kvHeads, P]` the original pair index of every kept pair (empty: unpruned).
    public let pairIndices: [Int]
    /// Pruned only: KV heads per layer, the entries of one layer's table (0: unpruned, one shared entry).
    public let kvHeads: Int

    /// Positions are stored as Int32 metadata; 2^24 tokens is far past any context this engine serves.
    public static let maximumPosition = 1 << 24

    /// How the frequencies were scaled.
    public let scaling: RopeScaling

    public init(headDimension: Int, theta: Double, scaling: RopeScaling = .none) {
        self.headDimension = headDimension
        self.scaling = scaling
        pairIndices = []
        kvHeads = 0
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

    private init(base: RotaryEmbedding, pairIndices: [Int], kvHeads: Int, pairs: Int) {
        headDimension = 2 * pairs
        inverseFrequencies = base.inverseFrequencies
        scaling = base.scaling
        self.pairIndices = pairIndices
        self.kvHeads = kvHeads
    }

    /// The RoPE of a pruned model that keeps, in layer `l` and KV head `h`, the pairs `pairs[l][h]` (each an
    /// index below `d/2` of this unpruned embedding; every head keeps the same number `P >= 1`). Callers
    /// validate the lists (`ModelConfig` does); a malformed one is a programmer error.
    public func keeping(pairs: [[[Int]]]) -> RotaryEmbedding {
        let kept = pairs.first?.first?.count ?? 0
        let heads = pairs.first?.count ?? 0
        precondition(kept > 0 && heads > 0 && pairs.allSatisfy { $0.count == heads && $0.allSatisfy { $0.count == kept } }
                     && pairs.joined().joined().allSatisfy { $0 >= 0 && $0 < inverseFrequencies.count },
                     "RotaryEmbedding.keeping: pair lists must be regular and within d/2")
        return RotaryEmbedding(base: self, pairIndices: Array(pairs.joined().joined()), kvHeads: heads, pairs: kept)
    }

    /// Whether this is a pruned model's RoPE (per-layer, per-head tables).
    public var isPruned: Bool { kvHeads > 0 }

    /// Floats in one row of an angle table: `d/2` unpruned, `layers * kvHeads * P` pruned.
    public var tableWidth: Int { isPruned ? pairIndices.count : headDimension / 2 }

    /// Where layer `layer`'s entries start within a table row.
    public func tableOffset(layer: Int) -> Int { isPruned ? layer * kvHeads * (headDimension / 2) : 0 }

    /// Entries per layer in a table row: `kvHeads` pruned, 1 (shared by every head) unpruned.
    public var tableHeads: Int { isPruned ? kvHeads : 1 }

    /// Fills the cosine and sine tables for `positions` (any integers, negative allowed: a rotation by a delta).
    /// - cos, sin: `[positions.count, tableWidth]`.
    public func table(positions: UnsafeBufferPointer<Int>, cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>) {
        let width = tableWidth
        inverseFrequencies.withUnsafeBufferPointer { frequencies in
            pairIndices.withUnsafeBufferPointer { pairs in
                for (row, position) in positions.enumerated() {
                    let p = Double(position)
                    for i in 0..<width {
                        let angle = p * frequencies[isPruned ? pairs[i] : i]
                        cos[row * width + i] = Float(Glibc.cos(angle))
                        sin[row * width + i] = Float(Glibc.sin(angle))
                    }
                }
            }
        }
    }

    /// Rotates `rows` rows of `heads` head vectors of layer `layer` in place; row `r` uses table row `r`, or
    /// table row 0 for every row when `sameAngles` (a shift by one delta).
    /// - x: `[rows, heads, d]` with row stride `rowStride` floats; cos, sin: `[rows, tableWidth]` (or one row).
    public func rotate(_ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, rowStride: Int,
                       cos: UnsafePointer<Float>, sin: UnsafePointer<Float>, sameAngles: Bool = false, layer: Int = 0) {
        let offset = tableOffset(layer: layer)
        Self.rotate(x, rows: rows, heads: heads, headDimension: headDimension, rowStride: rowStride,
                    table: RotationTable(rows: rows, cos: cos + offset, sin: sin + offset, rowStride: tableWidth, heads: tableHeads),
                    sameAngles: sameAngles)
    }

    /// `rotate` for a head width given explicitly (no frequencies needed: the table holds the angles). Head
    /// `h` uses entry `h / (heads / table.heads)` of each table row.
    public static func rotate(_ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, headDimension: Int, rowStride: Int,
                              table: RotationTable, sameAngles: Bool = false) {
        let half = headDimension / 2
        let group = max(heads / max(table.heads, 1), 1)
        let entryStride = table.heads > 1 ? half : 0
        let tableStride = table.rowStride ?? half
        for r in 0..<rows {
            let c = table.cos + (sameAngles ? 0 : r * tableStride)
            let s = table.sin + (sameAngles ? 0 : r * tableStride)
            for h in 0..<heads {
                let v = x + r * rowStride + h * headDimension
                let entry = (h / group) * entryStride
                for i in 0..<half {
                    let a = v[i]
                    let b = v[i + half]
                    v[i] = a * c[entry + i] - b * s[entry + i]
                    v[i + half] = b * c[entry + i] + a * s[entry + i]
                }
            }
        }
    }
}

/// Cosine and sine of every angle for a list of positions, computed once per forward pass and shared by
/// every layer's queries and keys. cos, sin: `[rows, rowStride]`, of which one layer's part starts at the
/// pointers: `heads` entries of `d/2` (1 entry: shared by every head). Do not escape the pointers past the owner.
public struct RotationTable {
    public let rows: Int
    public let cos: UnsafePointer<Float>
    public let sin: UnsafePointer<Float>
    /// Floats from one row to the next; nil: the unpruned `d/2` (or, handed to `KVCache.write`, the
    /// cache's `rotary.tableWidth`).
    public let rowStride: Int?
    /// Entries per row for this layer: 1, or one per KV head (pruned models).
    public let heads: Int

    public init(rows: Int, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>, rowStride: Int? = nil, heads: Int = 1) {
        self.rows = rows
        self.cos = cos
        self.sin = sin
        self.rowStride = rowStride
        self.heads = heads
    }
}
