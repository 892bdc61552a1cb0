import ArgumentParser
import Bench
import Engine
import Foundation
import Tokenizers

/// `reanchor bench batch`: aggregate decode speed of continuous batching at several concurrencies.
struct BatchBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Aggregate decode tok/s of N concurrent greedy jobs through the scheduler, for each N.")
    @OptionGroup var model: BenchModelOptions
    @Option(help: "Comma-separated concurrencies (each in [1, 1024]).") var concurrency = "1,4,8"
    @Option(parsing: .unconditional, help: "Prompt tokens per job (>= 1).") var promptTokens = 64
    @Option(parsing: .unconditional, help: "Tokens generated per job (>= 2).") var decodeTokens = 32
    @Option(parsing: .unconditional, help: "Runs of every concurrency, interleaved (>= 1).") var repeats = 1
    @Option(help: "Also write the JSON report to this file.") var json: String?

    func levels() throws -> [Int] {
        let values = concurrency.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        return try values.map { text in
            guard let value = Int(text), value >= 1, value <= SchedulerConfiguration.maximumSequences else {
                throw ValidationError("--concurrency: '\(text)' is not an integer in [1, \(SchedulerConfiguration.maximumSequences)]")
            }
            return value
        }
    }

    func validate() throws {
        if try levels().isEmpty { throw ValidationError("--concurrency needs at least one value") }
        if promptTokens < 1 { throw ValidationError("--prompt-tokens must be >= 1, found \(promptTokens)") }
        if decodeTokens < 2 { throw ValidationError("--decode-tokens must be >= 2, found \(decodeTokens)") }
        if repeats < 1 || repeats > 100 { throw ValidationError("--repeats must be in [1, 100], found \(repeats)") }
    }

    func run() async throws {
        let (llama, label) = try model.load()
        let window = llama.config.usableWindow
        let (sum, overflow) = promptTokens.addingReportingOverflow(decodeTokens)
        guard !overflow, sum < window else {
            throw OptionError("--prompt-tokens \(promptTokens) plus --decode-tokens \(decodeTokens) must be below the model's window of \(window) tokens")
        }
        // Text of generated ids only matters for stop strings, which the benchmark does not use: a model
        // directory's own tokenizer, else the embedded model's.
        let tokenizerDirectory = try model.model.map { URL(fileURLWithPath: $0) } ?? ModelOptions(model: nil).directory()
        let tokenizer = try BPETokenizer(contentsOf: tokenizerDirectory.appendingPathComponent("tokenizer.json"))
        let report = try await BatchBenchmark(model: llama, tokenizer: tokenizer, label: label)
            .run(concurrencies: try levels(), repeats: repeats, promptTokens: promptTokens, decodeTokens: decodeTokens,
                 weights: llama.weights.formatDescription) { printError("  \($0)") }
        for summary in report.levels {
            for level in summary.runs {
                say(String(format: "concurrency %3d: aggregate decode %8.2f tok/s (%.2f per sequence), TTFT p50 %.3f s, max %.3f s, overall %.2f tok/s",
                           level.concurrency, level.aggregate_decode_tok_s, level.per_sequence_decode_tok_s, level.ttft_p50_s,
                           level.ttft_max_s, level.overall_tok_s))
            }
            say(String(format: "concurrency %3d: median %.2f tok/s, best %.2f tok/s over %d runs", summary.concurrency,
                       summary.aggregate_decode_tok_s_median, summary.aggregate_decode_tok_s_best, summary.runs.count))
        }
        if let median = report.speedup_highest_over_1_median, let best = report.speedup_highest_over_1_best {
            say(String(format: "aggregate decode at the highest concurrency / concurrency 1: %.2fx on medians, %.2fx on best runs", median, best))
        }
        if let json { try Data((try jsonText(report) + "\n").utf8).write(to: URL(fileURLWithPath: json)) }
    }
}
