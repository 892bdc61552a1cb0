import Models

/// The calibration scores of every layer: RoPE pairs (`[layers][kvHeads][d/2]`, by a `PairScore`) and value
/// channels (`[layers][kvHeads][d]`, by `ValueScore`). Higher: more important. Independent of the keep
/// ratio, so one set serves every ratio.
public struct PruningScores: Sendable {
    public let score: PairScore
    public let pairs: [[[Double]]]
    public let values: [[[Double]]]

    public init(model: LlamaModel, calibration: CalibrationProjections, score: PairScore) {
        self.score = score
        pairs = calibration.layers.map { score.scores($0) }
        values = calibration.layers.enumerated().map { layer, fresh in
            let output = model.weights.blocks[layer].output
            var columns = [Float](repeating: 0, count: output.rows * output.columns)
            columns.withUnsafeMutableBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                for row in 0..<output.rows { output.copyRow(row, into: base + row * output.columns) }
            }
            return ValueScore.scores(fresh, output: columns, hidden: model.config.hiddenSize)
        }
    }
}

/// Which RoPE pairs and value channels each KV head keeps, for a keep ratio: the same count in every head of
/// every layer (regular shapes), chosen per head by score.
public struct PruningPlan: Sendable {
    public let keep: Double
    public let pruning: RopePruning

    /// Items kept per head for `keep` of `total`: `round(keep * total)`, at least 1.
    public static func count(keep: Double, of total: Int) -> Int { min(total, max(1, Int((keep * Double(total)).rounded()))) }

    /// The `count` highest-scoring indices of `scores`, ascending (ties: the lower index).
    static func top(_ scores: [Double], count: Int) -> [Int] {
        Array(scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }.prefix(count)).sorted()
    }

    /// - keep: in (0, 1]; 1 keeps every pair and channel in order (the original model).
    public init(scores: PruningScores, config: ModelConfig, keep: Double) throws {
        guard keep > 0, keep <= 1 else { throw PruningError.invalidParameter(name: "--keep", reason: "must be in (0, 1], found \(keep)") }
        let d = config.headDimension
        let pairs = Self.count(keep: keep, of: d / 2)
        let channels = Self.count(keep: keep, of: d)
        self.keep = keep
        pruning = RopePruning(method: "rap", score: scores.score.rawValue,
                              keptPairs: scores.pairs.map { layer in layer.map { Self.top($0, count: pairs) } },
                              keptValueChannels: scores.values.map { layer in layer.map { Self.top($0, count: channels) } })
    }

    /// Scores the calibration and plans one ratio.
    public init(model: LlamaModel, calibration: CalibrationProjections, keep: Double, score: PairScore) throws {
        try self.init(scores: PruningScores(model: model, calibration: calibration, score: score), config: model.config, keep: keep)
    }
}
