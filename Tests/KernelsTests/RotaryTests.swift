import Testing
import Kernels
import TestSupport

/// RoPE invariants: rotations compose, angles stay exact at large positions.
@Suite struct RotaryTests {
    static let embeddings: [RotaryEmbedding] = [
        RotaryEmbedding(headDimension: 16, theta: 10_000),
        RotaryEmbedding(headDimension: 64, theta: 500_000, scaling: .llama3(factor: 32, lowFrequencyFactor: 1, highFrequencyFactor: 4, originalContext: 8192)),
        RotaryEmbedding(headDimension: 32, theta: 10_000, scaling: .linear(factor: 4)),
    ]

    func rotate(_ vector: [Float], by position: Int, with rotary: RotaryEmbedding) -> [Float] {
        var x = vector
        let half = rotary.headDimension / 2
        var cos = [Float](repeating: 0, count: half)
        var sin = [Float](repeating: 0, count: half)
        [position].withUnsafeBufferPointer { rotary.table(positions: $0, cos: &cos, sin: &sin) }
        x.withUnsafeMutableBufferPointer { rotary.rotate($0.baseAddress!, rows: 1, heads: 1, rowStride: rotary.headDimension, cos: cos, sin: sin) }
        return x
    }

    @Test(arguments: embeddings)
    func rotationsCompose(rotary: RotaryEmbedding) {
        let vector = (0..<rotary.headDimension).map { Float(($0 * 37) % 11) - 5 }
        for (a, b) in [(3, 5), (100, -40), (4000, 1234), (-7, 7)] {
            let twice = rotate(rotate(vector, by: a, with: rotary), by: b, with: rotary)
            let once = rotate(vector, by: a + b, with: rotary)
            let difference = maxAbsoluteDifference(twice, once)
            #expect(difference < 1e-4, "rotate(rotate(k, \(a)), \(b)) vs rotate(k, \(a + b)): \(difference)")
        }
    }

    @Test(arguments: embeddings)
    func rotationPreservesNormAndZeroIsIdentity(rotary: RotaryEmbedding) {
        let vector = (0..<rotary.headDimension).map { Float($0 % 7) - 3 }
        #expect(rotate(vector, by: 0, with: rotary) == vector)
        let rotated = rotate(vector, by: 123_456, with: rotary)
        let norm = { (v: [Float]) in v.reduce(0) { $0 + $1 * $1 } }
        #expect(abs(norm(rotated) - norm(vector)) < 1e-3)
        #expect(rotated != vector)
    }

    /// The llama3 frequencies against transformers' `_compute_llama3_parameters` (float32) for Llama-3.2-1B:
    /// head_dim 64, theta 500000, factor 32, low 1, high 4, original 8192. Covers all three bands.
    @Test func llama3FrequenciesMatchTransformers() {
        let rotary = Self.embeddings[1]
        let reference: [Double] = [1.0, 6.636012793e-01, 4.403666258e-01, 2.922278345e-01, 1.939227581e-01, 1.286873817e-01,
                                   8.539710194e-02, 5.666961893e-02, 3.760603070e-02, 2.495540865e-02, 1.656044088e-02,
                                   1.098952908e-02, 7.292665076e-03, 4.839421250e-03, 3.211446106e-03, 1.290548011e-03,
                                   4.295567051e-04, 9.708286234e-05, 1.946163866e-05, 1.291476747e-05, 8.570255886e-06,
                                   5.687232260e-06, 3.774054449e-06, 2.504467147e-06, 1.661967417e-06, 1.102883630e-06,
                                   7.318749340e-07, 4.856731266e-07, 3.222932889e-07, 2.138742303e-07, 1.419272024e-07,
                                   9.418306490e-08]
        #expect(rotary.inverseFrequencies.count == reference.count)
        for (mine, theirs) in zip(rotary.inverseFrequencies, reference) {
            // transformers computes in float32: agree to float precision.
            #expect(abs(mine / theirs - 1) < 1e-6, "\(mine) vs \(theirs)")
        }
    }
}

extension RotaryEmbedding: CustomTestStringConvertible {
    public var testDescription: String { "d=\(headDimension) f0=\(inverseFrequencies.first ?? 0)" }
}
