import Foundation
import Testing
@testable import LoadGenerator

/// Aggregate decode, TTFT and time per output token computed from hand-made timings.
@Suite struct LevelFiguresTests {
    /// A stream sent at `start` whose tokens arrive at `first`, `first + step`, ... (`count` of them).
    static func stream(start: Double, first: Double, step: Double, count: Int, usage: Int? = nil) -> StreamTiming {
        var timing = StreamTiming(start: start, arrivals: (0..<count).map { first + Double($0) * step }, usageTokens: usage)
        timing.end = timing.arrivals.last ?? start
        timing.sawDone = true
        return timing
    }

    @Test func oneStreamDecodesAtOneOverItsTokenInterval() throws {
        let round = [Self.stream(start: 0, first: 0.5, step: 0.1, count: 11)]
        let rate = try #require(LevelFigures.aggregateDecode(round))
        #expect(abs(rate - 10) < 1e-9)
        let figures = LevelFigures(target: "a", concurrency: 1, repeatIndex: 1, rounds: [round])
        #expect(figures.ttft_p50_s == 0.5)
        #expect(abs((figures.tpot_p50_s ?? 0) - 0.1) < 1e-12)
        #expect(figures.completion_tokens == 11 && figures.errors == 0 && figures.requests == 1)
        #expect(abs((figures.overall_tok_s ?? 0) - 11 / 1.5) < 1e-9)
    }

    @Test func aggregateCountsTokensAfterTheLastFirstToken() throws {
        // Two streams: the second starts decoding at 1.0; from then until 2.0 the first delivers 10 tokens
        // (1.1 ... 2.0) and the second 10 (1.1 ... 2.0 at 0.1): 20 tokens in 1 s.
        let round = [Self.stream(start: 0, first: 0.5, step: 0.1, count: 16), Self.stream(start: 0, first: 1.0, step: 0.1, count: 11)]
        let rate = try #require(LevelFigures.aggregateDecode(round))
        #expect(abs(rate - 20) < 1e-6)
        // Chunks that merged two tokens each (usage says twice the chunks) count double: 10 chunks after the
        // first, 20 tokens in 1 s.
        let merged = [Self.stream(start: 0, first: 0.5, step: 0.1, count: 11, usage: 22)]
        #expect(abs((LevelFigures.aggregateDecode(merged) ?? 0) - 20) < 1e-6)
    }

    @Test func errorsAreCountedAndLeftOutOfRates() {
        var failed = StreamTiming(start: 0, end: 0.2)
        failed.error = "HTTP 429: queue full"
        let round = [Self.stream(start: 0, first: 0.5, step: 0.1, count: 11), failed]
        let figures = LevelFigures(target: "a", concurrency: 2, repeatIndex: 1, rounds: [round, round])
        #expect(figures.errors == 2 && figures.requests == 4)
        #expect(figures.error_samples == ["HTTP 429: queue full", "HTTP 429: queue full"])
        #expect(figures.completion_tokens == 22)
        #expect(figures.aggregate_decode_tok_s_rounds.count == 2)
        #expect(LevelFigures.aggregateDecode([failed]) == nil)
    }

    @Test func summaryTakesMediansAndComputesRatios() throws {
        func level(_ target: String, _ concurrency: Int, _ step: Double, repeatIndex: Int) -> LevelFigures {
            let round = (0..<concurrency).map { _ in Self.stream(start: 0, first: 0.5, step: step, count: 11) }
            return LevelFigures(target: target, concurrency: concurrency, repeatIndex: repeatIndex, rounds: [round])
        }
        // "base" decodes 10 tok/s per stream at c=1 and 5 per stream at c=8 (40 aggregate); "fast" 20 and 10 (80).
        let figures = [level("base", 1, 0.1, repeatIndex: 1), level("fast", 1, 0.05, repeatIndex: 1),
                       level("base", 8, 0.2, repeatIndex: 1), level("fast", 8, 0.1, repeatIndex: 1),
                       level("base", 1, 0.125, repeatIndex: 2), level("fast", 1, 0.05, repeatIndex: 2),
                       level("base", 8, 0.2, repeatIndex: 2), level("fast", 8, 0.1, repeatIndex: 2)]
        let summary = LoadSummary(figures: figures, targets: ["base", "fast"])
        #expect(summary.levels.map(\.target) == ["base", "base", "fast", "fast"])
        let base1 = try #require(summary.levels.first)
        #expect(base1.repeats == 2 && base1.requests == 2)
        // Median of 10 and 8 by nearest rank is 8; the best is 10.
        #expect(abs((base1.aggregate_decode_tok_s_median ?? 0) - 8) < 1e-6)
        #expect(abs((base1.aggregate_decode_tok_s_best ?? 0) - 10) < 1e-6)
        let scaling = summary.ratios.filter { $0.kind == "scaling" }
        #expect(scaling.count == 2)
        #expect(abs((scaling.first { $0.target == "base" }?.ratio ?? 0) - 5) < 1e-6)
        #expect(abs((scaling.first { $0.target == "fast" }?.ratio ?? 0) - 4) < 1e-6)
        let versus = summary.ratios.filter { $0.kind == "versus" }
        #expect(versus.map(\.concurrency) == [1, 8])
        #expect(abs(versus[0].ratio - 2.5) < 1e-6 && abs(versus[1].ratio - 2) < 1e-6)
        #expect(versus.allSatisfy { $0.target == "fast" && $0.baseline == "base" })
    }
}
