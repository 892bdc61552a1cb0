/// How a prompt made of a prefix, document chunks and a query is turned into a KV cache.
public enum ReuseMode: String, Sendable, CaseIterable, Codable {
    /// Full recompute of the whole prompt: the quality reference.
    case full
    /// Exact prefix caching: reuse only the longest cached prefix of identical tokens (today's engines).
    case prefix
    /// Chunk reuse without position correction: each chunk's keys keep the positions they were computed
    /// at. The literature's "no position correction" baseline; never the default.
    case naive
    /// Chunk reuse with RoPE re-anchoring to each chunk's actual offset in this prompt.
    case anchored
    /// `anchored` plus CacheBlend selective recompute of the chunk tokens whose K/V deviate most.
    case blend
}

/// A retrieval-augmented prompt: `prefix` (BOS, system prompt) + `chunks` (documents) + `query`.
public struct RAGPrompt: Sendable {
    public var prefix: [Int]
    public var chunks: [[Int]]
    public var query: [Int]

    public init(prefix: [Int], chunks: [[Int]], query: [Int]) {
        self.prefix = prefix
        self.chunks = chunks
        self.query = query
    }

    public var tokens: [Int] { prefix + chunks.flatMap { $0 } + query }
    public var chunkTokenCount: Int { chunks.reduce(0) { $0 + $1.count } }
}

/// CacheBlend parameters: recompute the `ratio` of chunk tokens with the largest K/V deviation, measured at
/// `checkLayer`. https://arxiv.org/abs/2405.16444
public struct BlendParameters: Sendable, Equatable {
    /// How chunk tokens are ranked at the check layer, from their fresh K/V against the reused K/V.
    public enum Deviation: String, Sendable, CaseIterable, Codable {
        /// Squared L2 deviation of K, of V, or of both (the CacheBlend paper's ranking).
        case keys, values, both
        /// K+V deviation per head weighted by the attention the query gives the token at the check layer.
        case attention
        /// First-order change of the query's attention output at the check layer if the token were recomputed.
        case output
    }

    public let ratio: Double
    public let checkLayer: Int
    public let deviation: Deviation

    /// Ratio 0.15 at layer 1, as in the CacheBlend paper, ranked by `output`: the K/V deviation as the
    /// query sees it. On the trained models it cuts the KL to full recompute by about two thirds where the
    /// paper's K+V ranking cuts it by about 40% (README, "RAG").
    public static let standard = BlendParameters(uncheckedRatio: 0.15, checkLayer: 1, deviation: .output)

    private init(uncheckedRatio: Double, checkLayer: Int, deviation: Deviation) {
        ratio = uncheckedRatio
        self.checkLayer = checkLayer
        self.deviation = deviation
    }

    /// Chunk tokens recomputed past the check layer out of `chunkTokens`: the nearest whole number to `ratio` of them.
    public func recomputedCount(of chunkTokens: Int) -> Int { Int((Double(chunkTokens) * ratio).rounded()) }

    public init(ratio: Double = 0.15, checkLayer: Int = 1, deviation: Deviation = Self.standard.deviation) throws {
        guard ratio >= 0, ratio <= 1 else { throw EngineError.invalidParameter(name: "blend-ratio", reason: "must be in [0, 1], found \(ratio)") }
        guard checkLayer >= 0 else { throw EngineError.invalidParameter(name: "check-layer", reason: "must be >= 0, found \(checkLayer)") }
        self.ratio = ratio
        self.checkLayer = checkLayer
        self.deviation = deviation
    }
}
