import Foundation

/// Log-softmax and what is built on it, in double precision: the one implementation that perplexity,
/// reuse comparisons and the experiments share.
public enum LogProbabilities {
    /// `log softmax(logits)`, `[vocabulary]`.
    public static func logSoftmax(_ logits: ArraySlice<Float>) -> [Double] {
        let normalizer = logPartition(logits)
        return logits.map { Double($0) - normalizer }
    }

    /// `log p(token)` under the softmax of `logits`.
    public static func logProbability(_ logits: ArraySlice<Float>, of token: Int) -> Double {
        Double(logits[logits.startIndex + token]) - logPartition(logits)
    }

    /// `log Σ exp(logits)`, computed after subtracting the largest logit.
    private static func logPartition(_ logits: ArraySlice<Float>) -> Double {
        let maximum = Double(logits.max() ?? 0)
        return maximum + log(logits.reduce(0.0) { $0 + exp(Double($1) - maximum) })
    }

    /// KL(p ‖ q) of the softmax distributions of two logit rows, in nats (NaN when their sizes differ).
    public static func klDivergence(_ p: ArraySlice<Float>, _ q: ArraySlice<Float>) -> Double {
        guard p.count == q.count else { return .nan }
        let a = logSoftmax(p), b = logSoftmax(q)
        return zip(a, b).reduce(0.0) { $0 + exp($1.0) * ($1.0 - $1.1) }
    }
}
