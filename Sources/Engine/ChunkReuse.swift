import Foundation
import Cache
import Models

/// Position-independent reuse of a prefilled chunk: encode a document once (after a shared prefix, so its
/// first token is not an attention sink), keep its canonical K/V, and place it at any offset of any later
/// prompt with one rotation. The query is always computed fresh.
public struct ChunkReuse {
    public let model: any CausalLanguageModel

    public init(model: any CausalLanguageModel) { self.model = model }

    /// Prefills `prefix + chunk` and returns the chunk's cells as a slice (canonical keys, values).
    public func encode(chunk: [Int], after prefix: [Int]) throws -> CacheSlice {
        guard !chunk.isEmpty else { throw EngineError.emptyInput("chunk") }
        let cache = model.makeCache(capacity: prefix.count + chunk.count)
        let all = prefix + chunk
        _ = try model.forward(tokens: all, positions: Array(0..<all.count), cache: cache, outputs: .none)
        return try cache.export(sequence: 0, range: prefix.count..<all.count)
    }

    /// Builds a cache for `prefix`, then `chunks` placed one after another (re-anchored to their offsets),
    /// then runs `query` fresh and returns its logits (last row) and the cache.
    /// - chunks: slices from `encode`, in prompt order.
    public func compose(prefix: [Int], chunks: [CacheSlice], query: [Int], capacity: Int) throws -> (Logits, KVCache) {
        guard !query.isEmpty else { throw EngineError.emptyInput("query") }
        let cache = model.makeCache(capacity: capacity)
        if !prefix.isEmpty {
            _ = try model.forward(tokens: prefix, positions: Array(0..<prefix.count), cache: cache, outputs: .none)
        }
        var offset = prefix.count
        for chunk in chunks {
            try cache.importSlice(chunk, sequence: 0, at: offset)
            offset += chunk.count
        }
        let logits = try model.forward(tokens: query, positions: Array(offset..<(offset + query.count)), cache: cache)
        return (logits, cache)
    }
}

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
            kl += Self.klDivergence(fullRows[step], reusedRows[step])
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

    /// KL(p ‖ q) of the softmax distributions of two logit rows, in nats.
    public static func klDivergence(_ p: ArraySlice<Float>, _ q: ArraySlice<Float>) -> Double {
        LogProbabilities.klDivergence(p, q)
    }
}
