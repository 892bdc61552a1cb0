import Foundation
import Engine
import Models
import Tokenizers

/// Aggregate decode speed of continuous batching: `concurrency` greedy jobs submitted at once to a
/// `Scheduler`, each with its own prompt, decoding together in one batched forward pass per step.
public struct BatchBenchmark {
    public let model: any CausalLanguageModel
    public let tokenizer: BPETokenizer
    public let label: String

    public init(model: any CausalLanguageModel, tokenizer: BPETokenizer, label: String) {
        self.model = model
        self.tokenizer = tokenizer
        self.label = label
    }

    /// Figures of one concurrency.
    public struct Level: Codable, Sendable {
        public var concurrency: Int
        /// Tokens received by all streams per second while every stream was decoding (after the last
        /// first token, up to the last token).
        public var aggregate_decode_tok_s: Double
        /// The same divided by the concurrency.
        public var per_sequence_decode_tok_s: Double
        public var ttft_p50_s: Double
        public var ttft_max_s: Double
        /// Generated tokens over the whole run (prefill included) per second.
        public var overall_tok_s: Double
        public var seconds: Double
    }

    /// One concurrency over all repeats.
    public struct Summary: Codable, Sendable {
        public var concurrency: Int
        public var aggregate_decode_tok_s_median: Double
        public var aggregate_decode_tok_s_best: Double
        public var runs: [Level]
    }

    public struct Report: Codable, Sendable {
        public var shape: String
        public var weights: String
        public var prompt_tokens: Int
        public var decode_tokens: Int
        public var repeats: Int
        public var levels: [Summary]
        /// Aggregate decode at the highest concurrency over concurrency 1 (when both were run), on the medians
        /// and on the best runs.
        public var speedup_highest_over_1_median: Double?
        public var speedup_highest_over_1_best: Double?
    }

    /// Runs every concurrency in turn (a fresh scheduler each, after a warm-up), `repeats` times interleaved,
    /// so that load from other processes falls on all of them alike.
    public func run(concurrencies: [Int], repeats: Int, promptTokens: Int, decodeTokens: Int, weights: String,
                    progress: (String) -> Void = { _ in }) async throws -> Report {
        var runs: [Int: [Level]] = [:]
        for repeat_ in 1...max(repeats, 1) {
            for concurrency in concurrencies {
                progress("run \(repeat_)/\(repeats): concurrency \(concurrency)")
                runs[concurrency, default: []].append(try await level(concurrency: concurrency, promptTokens: promptTokens,
                                                                      decodeTokens: decodeTokens))
            }
        }
        let levels = runs.keys.sorted().map { concurrency in
            let rates = (runs[concurrency] ?? []).map(\.aggregate_decode_tok_s).sorted()
            return Summary(concurrency: concurrency, aggregate_decode_tok_s_median: rates.isEmpty ? 0 : rates[rates.count / 2],
                           aggregate_decode_tok_s_best: rates.last ?? 0, runs: runs[concurrency] ?? [])
        }
        let one = levels.first { $0.concurrency == 1 }
        let highest = levels.last
        func ratio(_ value: KeyPath<Summary, Double>) -> Double? {
            guard let one, let highest, one[keyPath: value] > 0 else { return nil }
            return highest[keyPath: value] / one[keyPath: value]
        }
        return Report(shape: label, weights: weights, prompt_tokens: promptTokens, decode_tokens: decodeTokens, repeats: repeats,
                      levels: levels, speedup_highest_over_1_median: ratio(\.aggregate_decode_tok_s_median),
                      speedup_highest_over_1_best: ratio(\.aggregate_decode_tok_s_best))
    }

    private func level(concurrency: Int, promptTokens: Int, decodeTokens: Int) async throws -> Level {
        let vocabulary = model.config.vocabularySize
        let configuration = try SchedulerConfiguration(maxSequences: concurrency, maxQueue: concurrency,
                                                       context: promptTokens + decodeTokens + 1)
        let scheduler = try Scheduler(model: model, tokenizer: tokenizer, configuration: configuration)
        let request = try GenerationRequest(maxTokens: decodeTokens, stopOnEOS: false)
        // Warm-up: page in the weights and size the scratch space at this batch width.
        let warm = try (0..<concurrency).map { job in
            try scheduler.submit(try CompletionJob(prompt: Self.prompt(promptTokens, job: job + 1000, vocabulary: vocabulary),
                                                   request: try GenerationRequest(maxTokens: 2, stopOnEOS: false)))
        }
        for stream in warm { for try await _ in stream {} }

        let start = Clock.now()
        let streams = try (0..<concurrency).map { job in
            try scheduler.submit(try CompletionJob(prompt: Self.prompt(promptTokens, job: job, vocabulary: vocabulary), request: request,
                                                   tenant: "job\(job)"))
        }
        let arrivals = try await withThrowingTaskGroup(of: [Double].self) { group in
            for stream in streams {
                group.addTask {
                    var times: [Double] = []
                    for try await event in stream { if case .token = event { times.append(Clock.now()) } }
                    return times
                }
            }
            var all: [[Double]] = []
            for try await times in group { all.append(times) }
            return all
        }
        let end = Clock.now()
        await scheduler.shutdown(grace: .seconds(1))
        let firsts = arrivals.compactMap(\.first).sorted()
        let decodeStart = firsts.last ?? start
        let decodeEnd = arrivals.compactMap(\.last).max() ?? end
        let decoded = arrivals.reduce(0) { $0 + $1.filter { $0 > decodeStart }.count }
        let aggregate = decodeEnd > decodeStart ? Double(decoded) / (decodeEnd - decodeStart) : 0
        let total = arrivals.reduce(0) { $0 + $1.count }
        return Level(concurrency: concurrency, aggregate_decode_tok_s: aggregate, per_sequence_decode_tok_s: aggregate / Double(concurrency),
                     ttft_p50_s: firsts.isEmpty ? 0 : firsts[firsts.count / 2] - start, ttft_max_s: decodeStart - start,
                     overall_tok_s: Double(total) / (end - start), seconds: end - start)
    }

    /// A distinct deterministic prompt per job (no shared prefix, so nothing is reused).
    static func prompt(_ count: Int, job: Int, vocabulary: Int) -> [Int] {
        (0..<count).map { (($0 + 1) * 7919 + job * 104_729 + 13) % vocabulary }
    }
}
