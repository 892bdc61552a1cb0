/// One target at one concurrency over all repeats: medians of the repeats' figures (and the best aggregate).
public struct LevelSummary: Codable, Sendable, Equatable {
    public var target: String
    public var concurrency: Int
    public var repeats: Int
    public var requests: Int
    public var errors: Int
    public var aggregate_decode_tok_s_median: Double?
    public var aggregate_decode_tok_s_best: Double?
    public var overall_tok_s_median: Double?
    public var ttft_p50_s: Double?
    public var ttft_p99_s: Double?
    public var tpot_p50_s: Double?
    public var tpot_p99_s: Double?
    /// The largest of the repeats' figures.
    public var server_rss_max_bytes: Int?
    public var server_rss_peak_bytes: Int?
}

/// A ratio of aggregate decode rates (on the medians over repeats).
public struct DecodeRatio: Codable, Sendable, Equatable {
    /// `scaling` (a target's highest concurrency over its concurrency 1) or `versus` (a target over the first
    /// target at the same concurrency).
    public var kind: String
    public var target: String
    public var baseline: String
    public var concurrency: Int
    public var baseline_concurrency: Int
    public var ratio: Double
}

/// The summaries and ratios of a load run's figures.
public struct LoadSummary: Codable, Sendable, Equatable {
    public var levels: [LevelSummary]
    public var ratios: [DecodeRatio]

    /// - targets: in the order given (the first is the baseline of `versus` ratios).
    public init(figures: [LevelFigures], targets: [String]) {
        var levels: [LevelSummary] = []
        for target in targets {
            let mine = figures.filter { $0.target == target }
            for concurrency in Set(mine.map(\.concurrency)).sorted() {
                let runs = mine.filter { $0.concurrency == concurrency }
                func median(_ value: (LevelFigures) -> Double?) -> Double? { Percentiles(runs.compactMap(value)).median }
                levels.append(LevelSummary(
                    target: target, concurrency: concurrency, repeats: runs.count,
                    requests: runs.reduce(0) { $0 + $1.requests }, errors: runs.reduce(0) { $0 + $1.errors },
                    aggregate_decode_tok_s_median: median(\.aggregate_decode_tok_s),
                    aggregate_decode_tok_s_best: runs.compactMap(\.aggregate_decode_tok_s).max(),
                    overall_tok_s_median: median(\.overall_tok_s),
                    ttft_p50_s: median(\.ttft_p50_s), ttft_p99_s: median(\.ttft_p99_s),
                    tpot_p50_s: median(\.tpot_p50_s), tpot_p99_s: median(\.tpot_p99_s),
                    server_rss_max_bytes: runs.compactMap(\.server_rss_max_bytes).max(),
                    server_rss_peak_bytes: runs.compactMap(\.server_rss_peak_bytes).max()))
            }
        }
        self.levels = levels
        ratios = Self.ratios(levels, targets: targets)
    }

    private static func ratios(_ levels: [LevelSummary], targets: [String]) -> [DecodeRatio] {
        func rate(_ target: String, _ concurrency: Int) -> Double? {
            levels.first { $0.target == target && $0.concurrency == concurrency }?.aggregate_decode_tok_s_median
        }
        var ratios: [DecodeRatio] = []
        for target in targets {
            let concurrencies = levels.filter { $0.target == target }.map(\.concurrency)
            if let highest = concurrencies.max(), highest > 1, let top = rate(target, highest), let one = rate(target, 1), one > 0 {
                ratios.append(DecodeRatio(kind: "scaling", target: target, baseline: target, concurrency: highest,
                                          baseline_concurrency: 1, ratio: top / one))
            }
        }
        guard let baseline = targets.first else { return ratios }
        for target in targets.dropFirst() {
            for level in levels where level.target == target {
                if let mine = level.aggregate_decode_tok_s_median, let theirs = rate(baseline, level.concurrency), theirs > 0 {
                    ratios.append(DecodeRatio(kind: "versus", target: target, baseline: baseline, concurrency: level.concurrency,
                                              baseline_concurrency: level.concurrency, ratio: mine / theirs))
                }
            }
        }
        return ratios
    }
}
