import Models

/// The calibration scores of every layer: q/k dims (`[layers][kvHeads][d/2]` RoPE pairs by a `PairScore`
/// for `rap`; `[layers][kvHeads][d]` single channels by `ChannelScore` for `channel`) and value channels
/// (`[layers][kvHeads][d]`, by `ValueScore`). Higher: more important. Independent of the keep ratio, so one
/// set serves every ratio.
public struct PruningScores: Sendable {
    public let method: PruningMethod
    /// The pair score (`rap`); `channel` always uses `ChannelScore.energy` and records `.energy`.
    public let score: PairScore
    /// Per layer and KV head: pair scores (`rap`) or channel scores (`channel`).
    public let keys: [[[Double]]]
    public let values: [[[Double]]]

    public init(model: LlamaModel, calibration: CalibrationProjections, score: PairScore, method: PruningMethod = .rap) {
        self.method = method
        self.score = method == .rap ? score : .energy
        switch method {
        case .rap: keys = calibration.layers.map { score.scores($0) }
        case .channel: keys = calibration.layers.map { ChannelScore.energy($0, rotary: model.rotary) }
        }
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

/// Which q/k dims and value channels each KV head keeps, for a keep ratio: the same count in every head of
/// every layer (regular shapes), chosen per head by score. `rap` keeps `P = round(keep d/2)` whole pairs;
/// `channel` fills the same `P` rotation slots (the same KV bytes, weights and FLOPs) with the longest prefix
/// of its channel ranking that fits: a channel whose partner is kept too shares its pair's slot, a lone one
/// takes a slot of its own beside a zero row (`RopePruning.loneChannels`).
public struct PruningPlan: Sendable {
    public let keep: Double
    public let pruning: RopePruning

    /// Items kept per head for `keep` of `total`: `round(keep * total)`, at least 1.
    public static func count(keep: Double, of total: Int) -> Int { min(total, max(1, Int((keep * Double(total)).rounded()))) }

    /// The `count` highest-scoring indices of `scores`, ascending (ties: the lower index).
    static func top(_ scores: [Double], count: Int) -> [Int] {
        Array(scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }.prefix(count)).sorted()
    }

    /// The longest prefix of the channels ranked by `scores` (`d` of them; ties: the lower index) whose
    /// pairs (`c mod d/2`) number at most `slots`, ascending.
    static func prefix(_ scores: [Double], slots: Int) -> [Int] {
        let half = scores.count / 2
        var pairs = Set<Int>(), kept: [Int] = []
        for channel in scores.indices.sorted(by: { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }) {
            if !pairs.contains(channel % half) {
                guard pairs.count < slots else { break }
                pairs.insert(channel % half)
            }
            kept.append(channel)
        }
        return kept.sorted()
    }

    /// Splits kept channels (ascending, below `d`) into whole pairs (both halves kept) and lone channels.
    static func split(channels: [Int], headDimension d: Int) -> (pairs: [Int], lone: [Int]) {
        let kept = Set(channels)
        let pairs = (0..<(d / 2)).filter { kept.contains($0) && kept.contains($0 + d / 2) }
        let whole = Set(pairs + pairs.map { $0 + d / 2 })
        return (pairs, channels.filter { !whole.contains($0) })
    }

    /// - keep: in (0, 1]; 1 keeps every pair and channel in order (the original model).
    public init(scores: PruningScores, config: ModelConfig, keep: Double) throws {
        guard keep > 0, keep <= 1 else { throw PruningError.invalidParameter(name: "--keep", reason: "must be in (0, 1], found \(keep)") }
        let d = config.headDimension
        let pairs = Self.count(keep: keep, of: d / 2)
        let channels = Self.count(keep: keep, of: d)
        let values = scores.values.map { layer in layer.map { Self.top($0, count: channels) } }
        self.keep = keep
        switch scores.method {
        case .rap:
            pruning = RopePruning(method: "rap", score: scores.score.rawValue,
                                  keptPairs: scores.keys.map { layer in layer.map { Self.top($0, count: pairs) } },
                                  keptValueChannels: values)
        case .channel:
            let split = scores.keys.map { layer in layer.map { Self.split(channels: Self.prefix($0, slots: pairs), headDimension: d) } }
            pruning = RopePruning(method: "channel", score: "energy", keptPairs: split.map { $0.map(\.pairs) },
                                  loneChannels: split.map { $0.map(\.lone) }, keptValueChannels: values)
        }
    }

    /// Scores the calibration and plans one ratio.
    public init(model: LlamaModel, calibration: CalibrationProjections, keep: Double, score: PairScore,
                method: PruningMethod = .rap) throws {
        try self.init(scores: PruningScores(model: model, calibration: calibration, score: score, method: method),
                      config: model.config, keep: keep)
    }
}
