import Models

/// Which RoPE pairs and value channels each KV head keeps, for a keep ratio: the same count in every head of
/// every layer (regular shapes), chosen per head by score.
public struct PruningPlan: Sendable {
    public let keep: Double
    public let score: PairScore
    public let pruning: RopePruning

    /// Pairs kept per head for `keep` of `half` pairs: `round(keep * half)`, at least 1.
    public static func count(keep: Double, of total: Int) -> Int { min(total, max(1, Int((keep * Double(total)).rounded()))) }

    /// The `count` highest-scoring indices of `scores`, ascending (ties: the lower index).
    static func top(_ scores: [Double], count: Int) -> [Int] {
        Array(scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }.prefix(count)).sorted()
    }

    /// - keep: in (0, 1]; 1 keeps every pair and channel in order (the original model).
    public init(model: LlamaModel, calibration: CalibrationProjections, keep: Double, score: PairScore) throws {
        guard keep > 0, keep <= 1 else { throw PruningError.invalidParameter(name: "--keep", reason: "must be in (0, 1], found \(keep)") }
        let config = model.config
        let d = config.headDimension
        let pairs = Self.count(keep: keep, of: d / 2)
        let channels = Self.count(keep: keep, of: d)
        var keptPairs: [[[Int]]] = []
        var keptValues: [[[Int]]] = []
        for (layer, fresh) in calibration.layers.enumerated() {
            let output = model.weights.blocks[layer].output
            var columns = [Float](repeating: 0, count: output.rows * output.columns)
            columns.withUnsafeMutableBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                for row in 0..<output.rows { output.copyRow(row, into: base + row * output.columns) }
            }
            let pairScores = pairs == d / 2 ? [] : score.scores(fresh)
            let valueScores = channels == d ? [] : ValueScore.scores(fresh, output: columns, hidden: config.hiddenSize)
            keptPairs.append((0..<config.kvHeads).map { g in pairs == d / 2 ? Array(0..<pairs) : Self.top(pairScores[g], count: pairs) })
            keptValues.append((0..<config.kvHeads).map { g in channels == d ? Array(0..<d) : Self.top(valueScores[g], count: channels) })
        }
        self.keep = keep
        self.score = score
        pruning = RopePruning(method: "rap", score: score.rawValue, keptPairs: keptPairs, keptValueChannels: keptValues)
    }
}
