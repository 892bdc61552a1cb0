import CoreMetrics
import Documents
import Engine
import Prometheus
import Synchronization

/// The server's metrics, kept in a registry of its own (so every application, and every test, has its own)
/// and written in the Prometheus text format by `GET /metrics`. Counters and histograms go through the
/// swift-metrics API with the Prometheus factory; the scheduler's gauges and token totals are read from its
/// snapshot when scraped.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let timeToFirstToken: CoreMetrics.Timer
    private let timePerOutputToken: CoreMetrics.Timer
    private let running: CoreMetrics.Gauge
    private let queued: CoreMetrics.Gauge
    private let kvBytesInUse: CoreMetrics.Gauge
    private let kvBytesBudget: CoreMetrics.Gauge
    private let tokenCounters: [(name: String, counter: CoreMetrics.Counter, read: @Sendable (SchedulerSnapshot) -> Int)]
    /// The snapshot totals already added to the counters (counters only grow; the snapshot holds totals).
    private let countedTotals = Mutex<[Int]>([0, 0, 0])

    static let timeToFirstTokenName = "reanchor_time_to_first_token_seconds"
    static let timePerOutputTokenName = "reanchor_time_per_output_token_seconds"

    init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = [
            Self.timeToFirstTokenName: [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000].map { .milliseconds($0) },
            Self.timePerOutputTokenName: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000].map { .milliseconds($0) },
        ]
        self.factory = factory
        timeToFirstToken = CoreMetrics.Timer(label: Self.timeToFirstTokenName, factory: factory)
        timePerOutputToken = CoreMetrics.Timer(label: Self.timePerOutputTokenName, factory: factory)
        running = CoreMetrics.Gauge(label: "reanchor_sequences_running", factory: factory)
        queued = CoreMetrics.Gauge(label: "reanchor_sequences_queued", factory: factory)
        kvBytesInUse = CoreMetrics.Gauge(label: "reanchor_kv_bytes_in_use", factory: factory)
        kvBytesBudget = CoreMetrics.Gauge(label: "reanchor_kv_bytes_budget", factory: factory)
        tokenCounters = [
            ("reanchor_prompt_tokens_total", CoreMetrics.Counter(label: "reanchor_prompt_tokens_total", factory: factory), { $0.promptTokens }),
            ("reanchor_generated_tokens_total", CoreMetrics.Counter(label: "reanchor_generated_tokens_total", factory: factory), { $0.generatedTokens }),
            ("reanchor_cached_tokens_total", CoreMetrics.Counter(label: "reanchor_cached_tokens_total", factory: factory), { $0.cachedTokens }),
        ]
    }

    /// One request answered: `route` is the matched route pattern (or `unmatched`), `status` the HTTP status code.
    func countRequest(route: String, status: Int) {
        CoreMetrics.Counter(label: "reanchor_requests_total", dimensions: [("route", route), ("status", String(status))],
                            factory: factory).increment()
    }

    /// A finished completion's timings: seconds to its first token, and seconds per token after it.
    func recordCompletion(timeToFirstToken seconds: Double, timePerOutputToken: Double?) {
        timeToFirstToken.recordNanoseconds(Self.nanoseconds(seconds))
        if let timePerOutputToken { self.timePerOutputToken.recordNanoseconds(Self.nanoseconds(timePerOutputToken)) }
    }

    /// The Prometheus text of every metric, after reading the scheduler's gauges and totals and the document
    /// library's statistics per tier (memory, disk, remote).
    func exposition(_ snapshot: SchedulerSnapshot, library: DocumentLibrary.Statistics? = nil) -> String {
        if let library { record(library) }
        running.record(snapshot.running)
        queued.record(snapshot.queued)
        kvBytesInUse.record(snapshot.kvBytesInUse)
        kvBytesBudget.record(snapshot.kvBytesBudget)
        countedTotals.withLock { counted in
            for (index, entry) in tokenCounters.enumerated() {
                let total = entry.read(snapshot)
                if total > counted[index] {
                    entry.counter.increment(by: total - counted[index])
                    counted[index] = total
                }
            }
        }
        return registry.emitToString()
    }

    /// Library look-ups and hits, and per tier its hits, misses, entries and bytes (gauges of running totals).
    private func record(_ library: DocumentLibrary.Statistics) {
        CoreMetrics.Gauge(label: "reanchor_library_lookups", factory: factory).record(library.lookups)
        CoreMetrics.Gauge(label: "reanchor_library_hits", factory: factory).record(library.hits)
        let tiers: [(String, TierStatistics?)] = [("memory", library.memory), ("disk", library.disk), ("remote", library.remote)]
        for case let (tier, statistics?) in tiers {
            for (name, value) in [("hits", statistics.hits), ("misses", statistics.misses), ("entries", statistics.entries),
                                  ("bytes", statistics.bytes)] {
                CoreMetrics.Gauge(label: "reanchor_library_tier_\(name)", dimensions: [("tier", tier)], factory: factory).record(value)
            }
        }
    }

    private static func nanoseconds(_ seconds: Double) -> Int64 {
        guard seconds.isFinite, seconds > 0 else { return 0 }
        return Int64(min(seconds, 1e6) * 1e9)
    }
}
