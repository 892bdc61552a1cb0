import Foundation

/// Log-softmax and what is built on it, in double precision: the one implementation that perplexity,
/// reuse comparisons and the experiments share.
public enum LogProbabilities {
    /// `log softmax(logits)`, `[vocabulary]`.
    public static func logSoftmax(_ logits: ArraySlice<Float>) -> [Double] {
        let maximum = Double(logits.max() ?? 0)
        let total = log(logits.reduce(0.0) { $0 + exp(Double($1) - maximum) })
        return logits.map { Double($0) - maximum - total }
    }

    /// `log p(token)` under the softmax of `logits`.
    public static func logProbability(_ logits: ArraySlice<Float>, of token: Int) -> Double {
        let maximum = Double(logits.max() ?? 0)
        let total = log(logits.reduce(0.0) { $0 + exp(Double($1) - maximum) })
        return Double(logits[logits.startIndex + token]) - maximum - total
    }

    /// KL(p ‖ q) of the softmax distributions of two logit rows, in nats (NaN when their sizes differ).
    public static func klDivergence(_ p: ArraySlice<Float>, _ q: ArraySlice<Float>) -> Double {
        guard p.count == q.count else { return .nan }
        let a = logSoftmax(p), b = logSoftmax(q)
        return zip(a, b).reduce(0.0) { $0 + exp($1.0) * ($1.0 - $1.1) }
    }
}
