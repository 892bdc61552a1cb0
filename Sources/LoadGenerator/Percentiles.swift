/// Nearest-rank percentiles: the p-th percentile of n values is the ceil(p / 100 * n)-th smallest, so
/// every reported value is one that was measured (p50 of 1, 2, 3, 4 is 2; p99 of 100 values is the 99th).
public struct Percentiles: Sendable {
    public let sorted: [Double]

    /// NaN values are dropped (they have no rank).
    public init(_ values: [Double]) {
        sorted = values.filter { !$0.isNaN }.sorted()
    }

    /// The p-th percentile (p in (0, 100]), or nil with no values.
    public func value(_ p: Double) -> Double? {
        guard !sorted.isEmpty, p > 0, p <= 100 else { return nil }
        let rank = Int((p * Double(sorted.count) / 100).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    /// The median of the values (nearest rank), or nil.
    public var median: Double? { value(50) }
}
