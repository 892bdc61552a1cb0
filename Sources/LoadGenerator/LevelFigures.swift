/// The figures of one target at one concurrency: `rounds` rounds of `concurrency` requests sent at once.
public struct LevelFigures: Codable, Sendable, Equatable {
    public var target: String
    public var concurrency: Int
    /// Which repeat of the interleaved schedule this was (1-based).
    public var repeat_index: Int
    public var requests: Int
    public var errors: Int
    /// The first few error messages, to tell what went wrong.
    public var error_samples: [String]
    public var completion_tokens: Int
    /// Requests whose server reported `usage.completion_tokens` (else tokens are counted as text chunks).
    public var requests_with_usage: Int
    /// Tokens that arrived while every stream of the round was decoding (after the round's last first token,
    /// up to its last token) per second; the median over rounds. At concurrency 1 this is 1 / time per token.
    public var aggregate_decode_tok_s: Double?
    public var aggregate_decode_tok_s_rounds: [Double]
    /// All tokens of the level over its wall time (prefills and stragglers included).
    public var overall_tok_s: Double?
    public var ttft_p50_s: Double?
    public var ttft_p99_s: Double?
    public var tpot_p50_s: Double?
    public var tpot_p99_s: Double?
    /// The server's largest resident set seen while the level ran (sampled every 100 ms), and its peak since
    /// it started (`VmHWM`) after the level; nil when the server's process is not known.
    public var server_rss_max_bytes: Int?
    public var server_rss_peak_bytes: Int?
    public var seconds: Double

    /// Figures of `rounds` (each the timings of one round's requests).
    public init(target: String, concurrency: Int, repeatIndex: Int, rounds: [[StreamTiming]],
                serverRSSMax: Int? = nil, serverRSSPeak: Int? = nil) {
        let all = rounds.flatMap { $0 }
        let failed = all.filter { !$0.succeeded }
        self.target = target
        self.concurrency = concurrency
        repeat_index = repeatIndex
        requests = all.count
        errors = failed.count
        error_samples = Array(failed.map { $0.error ?? "no text received" }.prefix(3))
        completion_tokens = all.filter(\.succeeded).reduce(0) { $0 + $1.tokens }
        requests_with_usage = all.filter { $0.usageTokens != nil }.count
        aggregate_decode_tok_s_rounds = rounds.compactMap(Self.aggregateDecode)
        aggregate_decode_tok_s = Percentiles(aggregate_decode_tok_s_rounds).median
        let start = all.map(\.start).min() ?? 0
        let end = all.map(\.end).max() ?? 0
        seconds = end - start
        overall_tok_s = seconds > 0 ? Double(completion_tokens) / seconds : nil
        let ttft = Percentiles(all.compactMap(\.timeToFirstToken))
        let tpot = Percentiles(all.filter(\.succeeded).compactMap(\.timePerOutputToken))
        ttft_p50_s = ttft.value(50)
        ttft_p99_s = ttft.value(99)
        tpot_p50_s = tpot.value(50)
        tpot_p99_s = tpot.value(99)
        server_rss_max_bytes = serverRSSMax
        server_rss_peak_bytes = serverRSSPeak
    }

    /// Aggregate decode rate of one round over its successful streams (see `aggregate_decode_tok_s`); each
    /// chunk counts tokens / chunks of its stream (1 unless chunks merged tokens). Nil when no stream
    /// decoded past the round's last first token.
    public static func aggregateDecode(_ round: [StreamTiming]) -> Double? {
        let streams = round.filter(\.succeeded)
        guard let decodeStart = streams.compactMap(\.arrivals.first).max(),
              let decodeEnd = streams.compactMap(\.arrivals.last).max(), decodeEnd > decodeStart else { return nil }
        let tokens = streams.reduce(0.0) { sum, stream in
            let perChunk = Double(stream.tokens) / Double(stream.arrivals.count)
            return sum + Double(stream.arrivals.filter { $0 > decodeStart }.count) * perChunk
        }
        return tokens / (decodeEnd - decodeStart)
    }
}
