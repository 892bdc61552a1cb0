import Foundation
import Models

/// Perplexity of a token sequence, with a definition that compares with other tools:
/// the tokens are cut into consecutive windows of `context - 1` tokens (`context` without BOS);
/// BOS is prepended to each window when the model has one; every window token is scored given its
/// predecessors in the window (the first only when it follows BOS); with `stride` < window, windows
/// start every `stride` tokens and only the tokens not scored by an earlier window are scored.
/// perplexity = exp(mean negative log-likelihood over all scored tokens).
public struct PerplexityEvaluator {
    public let model: any CausalLanguageModel
    public let context: Int
    public let stride: Int

    public struct Result: Sendable, Codable {
        public var perplexity: Double
        public var negativeLogLikelihood: Double
        public var tokens: Int
        public var context: Int
        public var stride: Int
        public var windows: Int
        public var seconds: Double
    }

    public init(model: any CausalLanguageModel, context: Int, stride: Int? = nil) throws {
        guard context >= 2 else { throw EngineError.invalidParameter(name: "context", reason: "must be >= 2, found \(context)") }
        let window = context - (model.config.bosTokenID == nil ? 0 : 1)
        let step = stride ?? window
        guard step >= 1, step <= window else {
            throw EngineError.invalidParameter(name: "stride", reason: "must be in [1, \(window)], found \(step)")
        }
        self.model = model
        self.context = context
        self.stride = step
    }

    /// Tokens per window (excluding BOS).
    public var window: Int { context - (model.config.bosTokenID == nil ? 0 : 1) }

    /// The fewest tokens that leave one to score: 1 when the model has BOS (it is scored given BOS), else 2.
    public var minimumTokens: Int { Self.minimumTokens(hasBOS: model.config.bosTokenID != nil) }

    public static func minimumTokens(hasBOS: Bool) -> Int { hasBOS ? 1 : 2 }

    /// Scores `tokens`; `progress(done, total)` is called after each window.
    public func evaluate(_ tokens: [Int], progress: (Int, Int) -> Void = { _, _ in }) throws -> Result {
        guard tokens.count >= minimumTokens else {
            throw EngineError.invalidParameter(
                name: "text", reason: "\(tokens.count) tokens, but perplexity needs at least \(minimumTokens) (one token to score"
                    + (minimumTokens == 1 ? " after BOS)" : " after the first; this model has no BOS)"))
        }
        let starts = windowStarts(count: tokens.count)
        let cache = model.makeCache(capacity: context)
        let bos = model.config.bosTokenID
        let started = Clock.now()
        var total = 0.0
        var scored = 0
        var scoredUpTo = 0  // tokens before this global index are already scored
        for (index, begin) in starts.enumerated() {
            let end = min(begin + window, tokens.count)
            let input = (bos.map { [$0] } ?? []) + tokens[begin..<end]
            cache.clear()
            let logits = try model.forward(tokens: input, positions: Array(0..<input.count), cache: cache, outputs: .all)
            let offset = bos == nil ? 0 : 1
            for t in 1..<input.count {
                let global = begin + t - offset
                guard global >= scoredUpTo else { continue }
                total -= LogProbabilities.logProbability(logits.row(t - 1), of: input[t])
                scored += 1
            }
            scoredUpTo = end
            progress(index + 1, starts.count)
        }
        let mean = total / Double(max(scored, 1))
        return Result(perplexity: exp(mean), negativeLogLikelihood: mean, tokens: scored, context: context,
                      stride: stride, windows: starts.count, seconds: Clock.now() - started)
    }

    /// First token index of each window.
    func windowStarts(count: Int) -> [Int] {
        var starts: [Int] = []
        var begin = 0
        while true {
            starts.append(begin)
            if begin + window >= count { break }
            begin += stride
        }
        return starts
    }
}
