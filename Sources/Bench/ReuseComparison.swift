import Foundation
import Cache
import Engine
import Models

/// Reuse against full recompute of the same prompt.
public struct ReuseComparison: Sendable, Codable {
    public var promptTokens: Int
    public var reusedTokens: Int
    /// Seconds to the first logits: full prefill, and with the chunks reused.
    public var fullSeconds: Double
    public var reuseSeconds: Double
    /// Max |Δlogit| at the first generated position.
    public var maxLogitDifference: Float
    /// Over `steps` teacher-forced steps (the full model's greedy tokens fed to both): argmax agreement
    /// and mean KL(full ‖ reuse) of the next-token distributions.
    public var top1Agreement: Double
    public var meanKL: Double
}

extension ChunkReuse {
    /// Compares reusing `chunks` (encoded from `chunkTokens`) with a full prefill of the same prompt.
    public func compare(prefix: [Int], chunkTokens: [[Int]], chunks: [CacheSlice], query: [Int], steps: Int = 16) throws -> ReuseComparison {
        let prompt = prefix + chunkTokens.flatMap { $0 } + query
        let capacity = prompt.count + steps + 1
        let fullCache = model.makeCache(capacity: capacity)
        let fullStart = Clock.now()
        let full = try model.forward(tokens: prompt, positions: Array(0..<prompt.count), cache: fullCache)
        let fullSeconds = Clock.now() - fullStart
        let reuseStart = Clock.now()
        let (reused, reuseCache) = try compose(prefix: prefix, chunks: chunks, query: query, capacity: capacity)
        let reuseSeconds = Clock.now() - reuseStart
        // The full model's greedy tokens, fed to both; the logits before each step compared pairwise.
        var fullRows: [ArraySlice<Float>] = []
        var tokens: [Int] = []
        _ = try DecodeLoop(model: model, cache: fullCache).run(from: full, at: prompt.count) { row in
            guard tokens.count < steps else { return .stop }
            fullRows.append(row)
            tokens.append(Sampler.argmax(row))
            return .feed(tokens[tokens.count - 1])
        }
        let reusedRows = try DecodeLoop(model: model, cache: reuseCache).force(tokens, from: reused, at: prompt.count)
        let firstDifference = Self.maxAbsoluteDifference(full.last, reused.last)
        var agree = 0
        var kl = 0.0
        for (step, token) in tokens.enumerated() {
            if Sampler.argmax(reusedRows[step]) == token { agree += 1 }
            kl += LogProbabilities.klDivergence(fullRows[step], reusedRows[step])
        }
        return ReuseComparison(promptTokens: prompt.count, reusedTokens: chunks.reduce(0) { $0 + $1.count },
                               fullSeconds: fullSeconds, reuseSeconds: reuseSeconds, maxLogitDifference: firstDifference,
                               top1Agreement: Double(agree) / Double(max(steps, 1)), meanKL: kl / Double(max(steps, 1)))
    }

    /// Max |a - b| over two logit rows; NaN when either holds a NaN or their lengths differ, so a broken
    /// row can never look like a match.
    public static func maxAbsoluteDifference(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Float {
        guard a.count == b.count else { return .nan }
        var worst: Float = 0
        for (x, y) in zip(a, b) {
            let d = abs(x - y)
            guard !d.isNaN else { return .nan }
            worst = max(worst, d)
        }
        return worst
    }
}
