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

    /// The `count` most likely tokens of `logits` with their log probabilities, best first (ties: lower id first).
    public static func top(_ logits: ArraySlice<Float>, count: Int) -> [(token: Int, logProbability: Double)] {
        guard count > 0, !logits.isEmpty else { return [] }
        let normalizer = logPartition(logits)
        var best: [(token: Int, logit: Float)] = []
        for (offset, logit) in logits.enumerated() where !logit.isNaN {
            guard best.count < count || logit > best[best.count - 1].logit else { continue }
            let slot = best.firstIndex { logit > $0.logit } ?? best.count
            best.insert((offset, logit), at: slot)
            if best.count > count { best.removeLast() }
        }
        return best.map { ($0.token, Double($0.logit) - normalizer) }
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
