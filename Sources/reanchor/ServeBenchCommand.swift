import ArgumentParser
import Bench
import Foundation
import LoadGenerator
import Models

extension LoadRequestShape.Endpoint: ExpressibleByArgument {}

/// `reanchor bench serve`: a load generator over real HTTP on loopback. Without `--url` it starts `reanchor
/// serve` on the model or shape as a child process (port 0) and measures it; with `--url` (repeatable) it
/// drives any OpenAI-compatible servers (llama-server, vLLM, another reanchor), interleaved in one run.
struct ServeBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Aggregate decode tok/s, TTFT and time per output token of an OpenAI-compatible server under concurrent streams.")
    @OptionGroup var model: BenchModelOptions
    @Option(help: "Comma-separated concurrencies: streamed requests in flight at once (each in [1, 1024]).") var concurrency = "1,4,8,16"
    @Option(parsing: .unconditional, help: "Prompt tokens per request (token ids; words for --endpoint chat).") var promptTokens = 64
    @Option(parsing: .unconditional, help: "Tokens generated per request (>= 2; EOS ignored, see --no-ignore-eos).") var maxTokens = 32
    @Option(parsing: .unconditional, help: "Rounds per concurrency: each sends N requests at once and waits for all.") var rounds = 3
    @Option(parsing: .unconditional, help: "Runs of every concurrency and server, interleaved (>= 1).") var repeats = 1
    @Option(help: "completions (prompt as token ids) or chat.") var endpoint: LoadRequestShape.Endpoint = .completions
    @Option(help: "[NAME=]URL of a running OpenAI-compatible server (repeatable; the first is the baseline of the ratios). Without it, reanchor serve is started.")
    var url: [String] = []
    @Option(help: "[NAME=]PID of a --url server's process, for its resident memory (repeatable).") var serverPid: [String] = []
    @Option(parsing: .unconditional, help: "Prompt ids are drawn below this (default: the model's vocabulary; 1000 with --url).") var vocabSize: Int?
    @Option(parsing: .unconditional, help: "--max-sequences of the started server (default: the highest concurrency).") var maxSequences: Int?
    @Flag(inversion: .prefixedNo, help: "Ask servers to ignore EOS (ignore_eos, reanchor.ignore_eos) so every request generates --max-tokens.")
    var ignoreEOS = true
    @Flag(help: "Ask for the chosen token's logprob, so tokens without text still arrive as chunks (implied by a started --shape server, whose random tokens the embedded tokenizer mostly cannot spell).")
    var tokenLogprobs = false
    @Option(help: "Also write the JSON report to this file.") var json: String?

    func validate() throws {
        do {
            if try LoadArguments.concurrencies(concurrency).isEmpty { throw ValidationError("--concurrency needs at least one value") }
            try LoadArguments.check(promptTokens: promptTokens, maxTokens: maxTokens, rounds: rounds, repeats: repeats,
                                    vocabularySize: vocabSize ?? 1000)
            _ = try LoadArguments.targets(urls: url, pids: serverPid)
            if !url.isEmpty, model.model != nil { throw LoadArgumentError("--model", "starts a server: not with --url") }
            if !url.isEmpty, maxSequences != nil { throw LoadArgumentError("--max-sequences", "sets the started server: not with --url") }
            if let maxSequences, !(1...LoadArguments.maximumConcurrency).contains(maxSequences) {
                throw LoadArgumentError("--max-sequences", "must be in [1, \(LoadArguments.maximumConcurrency)], found \(maxSequences)")
            }
        } catch let error as LoadArgumentError {
            throw ValidationError(error.description)
        }
    }

    func run() async throws {
        let levels = try LoadArguments.concurrencies(concurrency)
        var server: ServerProcess?
        var targets = try LoadArguments.targets(urls: url, pids: serverPid)
        var vocabulary = vocabSize ?? 1000
        if targets.isEmpty {
            let config = try modelConfig()
            vocabulary = vocabSize ?? config.vocabularySize
            let started = ServerProcess(arguments: serverArguments(widest: levels.max() ?? 1))
            printError("starting reanchor serve \(model.model ?? "--shape \(model.shape.rawValue)") (log: \(started.logURL.path))...")
            try started.start(timeout: 900)
            printError("reanchor serve listening on \(started.url) (pid \(started.pid))")
            server = started
            targets = [LoadTarget(name: "reanchor", url: started.url, serverPID: started.pid)]
        }
        do {
            try await measure(targets: targets, levels: levels, vocabulary: vocabulary, serverLabel: server == nil ? nil : label)
        } catch {
            server?.stop()
            throw error
        }
        if let server {
            let status = server.stop()
            if status != 0 { throw OptionError("reanchor serve exited with status \(status) (log \(server.logURL.path))") }
        }
    }

    private var label: String { model.model ?? model.shape.rawValue }

    private var withLogprobs: Bool { tokenLogprobs || (url.isEmpty && model.model == nil) }

    private func measure(targets: [LoadTarget], levels: [Int], vocabulary: Int, serverLabel: String?) async throws {
        try LoadArguments.check(promptTokens: promptTokens, maxTokens: maxTokens, rounds: rounds, repeats: repeats, vocabularySize: vocabulary)
        let shape = LoadRequestShape(endpoint: endpoint, promptTokens: promptTokens, maxTokens: maxTokens, vocabularySize: vocabulary,
                                     ignoreEOS: ignoreEOS, tokenLogprobs: withLogprobs)
        printError("measuring memory read bandwidth and load...")
        var machine = MachineInfo.start(measureBandwidth: true)
        let bar = ProgressState()
        let run = LoadRun(targets: targets, shape: shape, concurrencies: levels, rounds: rounds, repeats: repeats)
        let figures = try await run.run { progress in bar.show(progress) }
        machine.finish(measureBandwidth: true)
        let summary = LoadSummary(figures: figures, targets: targets.map(\.name))
        let report = ServeBenchReport(machine: machine, model: serverLabel, weights: serverLabel == nil ? nil : model.weights.rawValue,
                                      endpoint: endpoint.rawValue, prompt_tokens: promptTokens, max_tokens: maxTokens, rounds: rounds,
                                      repeats: repeats, ignore_eos: ignoreEOS, token_logprobs: withLogprobs, targets: targets,
                                      summary: summary, runs: figures)
        ServeBenchTable(report: report).print()
        if let json { try Data((try jsonText(report) + "\n").utf8).write(to: URL(fileURLWithPath: json)) }
    }

    /// The started server's options: the bench's model or shape and weights, sequences for the widest level.
    private func serverArguments(widest: Int) -> [String] {
        let modelArguments = model.model.map { ["--model", $0] } ?? ["--shape", model.shape.rawValue]
        let sequences = maxSequences ?? widest
        return modelArguments + ["--weights", model.weights.rawValue, "--max-sequences", String(sequences),
                                 "--max-queue", String(max(64, widest))]
    }

    /// The vocabulary (for prompt ids) of the model the started server loads.
    private func modelConfig() throws -> ModelConfig {
        if let directory = model.model {
            return try ModelConfig(contentsOf: URL(fileURLWithPath: directory).appendingPathComponent("config.json"))
        }
        return try model.shape.config()
    }
}

/// What `bench serve --json` writes: the machine, the settings, every repeat's figures and their summary.
struct ServeBenchReport: Codable {
    var machine: MachineInfo
    /// The started server's model directory or shape (nil with --url).
    var model: String?
    var weights: String?
    var endpoint: String
    var prompt_tokens: Int
    var max_tokens: Int
    var rounds: Int
    var repeats: Int
    var ignore_eos: Bool
    var token_logprobs: Bool
    var targets: [LoadTarget]
    var summary: LoadSummary
    var runs: [LevelFigures]
}

/// The progress line of a load run (requests finished in the current level).
final class ProgressState: @unchecked Sendable {
    private let lock = NSLock()

    func show(_ progress: LoadProgress) {
        lock.lock()
        defer { lock.unlock() }
        ProgressBar(label: String(format: "%@ c=%d run %d/%d", progress.target, progress.concurrency, progress.repeatIndex, progress.repeats))
            .update(progress.finished, of: progress.total, detail: "requests (round \(progress.round)/\(progress.rounds))")
    }
}
