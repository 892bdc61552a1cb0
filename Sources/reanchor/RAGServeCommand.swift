import ArgumentParser
import Bench
import Engine
import Foundation
import Kernels
import LoadGenerator
import Logging
import Server
import Templates

/// `reanchor bench rag-serve`: plain chat requests with retrieved passages pasted in shuffled order, sent
/// over HTTP to a server started in this process, with transparent reuse on (`blend` and `anchored`, per request's
/// `reanchor.reuse`) and off (`prefix`: exact-prefix caching, as other engines do).
struct RAGServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rag-serve",
        abstract: "TTFT, tok/s and hit rate of pasted-passage chats over HTTP with transparent reuse on and off; KL to full per mode.")

    @OptionGroup var model: ModelOptions
    @Option(help: "JSON list of {ctxs: [{title, text}], question, answers}.") var dataset = "../shared/corpora/musique/musique_s.json"
    @Option(parsing: .unconditional, help: "Questions (each asked once per concurrency and setting after a first sight).") var questions = 16
    @Option(parsing: .unconditional, help: "Passages per question (each cut to its share of the prompt budget).") var passages = 10
    @Option(parsing: .unconditional, help: "Prompt token budget (default: the model's context less the answer, at most 2048).") var promptTokens: Int?
    @Option(help: "Comma-separated concurrencies.") var concurrency = "1,8"
    @Option(parsing: .unconditional, help: "Tokens generated per request.") var maxTokens = 16
    @Option(parsing: .unconditional, help: "Questions of the quality measurement (KL and top-1 to full).") var qualityQuestions = 10
    @Option(help: "Comma-separated modes measured with reuse on (anchored, blend), each against reuse off (prefix).")
    var reuseModes = "blend,anchored"
    @Option(help: "Write the JSON report here.") var json: String?

    func modes() throws -> [String] {
        try reuseModes.split(separator: ",").map { text in
            let mode = text.trimmingCharacters(in: .whitespaces)
            guard mode == "anchored" || mode == "blend" else { throw ValidationError("--reuse-modes: '\(mode)' is not anchored or blend") }
            return mode
        }
    }

    func levels() throws -> [Int] {
        try concurrency.split(separator: ",").map { text in
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)), (1...64).contains(value) else {
                throw ValidationError("--concurrency: '\(text)' is not an integer in [1, 64]")
            }
            return value
        }
    }

    func validate() throws {
        if try levels().isEmpty { throw ValidationError("--concurrency needs at least one value") }
        if try modes().isEmpty { throw ValidationError("--reuse-modes needs at least one mode") }
        guard (1...1000).contains(questions) else { throw ValidationError("--questions must be in [1, 1000], found \(questions)") }
        guard (1...100).contains(passages) else { throw ValidationError("--passages must be in [1, 100], found \(passages)") }
        guard (1...4096).contains(maxTokens) else { throw ValidationError("--max-tokens must be in [1, 4096], found \(maxTokens)") }
        guard (0...1000).contains(qualityQuestions) else { throw ValidationError("--quality-questions must be in [0, 1000], found \(qualityQuestions)") }
        if let promptTokens, promptTokens < 64 { throw ValidationError("--prompt-tokens must be >= 64, found \(promptTokens)") }
    }

    struct Row: Codable {
        var concurrency: Int
        var reuse: String
        var requests: Int
        var ttft_p50_ms: Double
        var ttft_p99_ms: Double
        var aggregate_tok_s: Double
        var chunk_hit_rate: Double
        var mean_cached_tokens: Double
        var mean_prompt_tokens: Double
    }

    struct Report: Codable {
        var model: String
        var weights: String
        var cpu: String
        var questions: Int
        var max_tokens: Int
        var rows: [Row]
        /// TTFT p50 with reuse off over on, per mode with reuse on and concurrency.
        var ttft_p50_speedup: [String: [String: Double]]
        var quality: [RAGServeQuality]
    }

    func run() async throws {
        let directory = try model.directory()
        let languageModel = try model.load()
        let window = languageModel.config.usableWindow
        let budget = min(promptTokens ?? min(2048, window - maxTokens - 8), window - maxTokens - 8)
        let tokens = try ChatTemplateFile.specialTokens(modelDirectory: directory)
        let reuse = ReuseConfiguration.standard
        let workload = RAGServeWorkload(
            questions: Array(try RAGQuestion.load(URL(fileURLWithPath: dataset)).prefix(questions)), passagesPerQuestion: passages,
            budget: budget, template: try ChatTemplate.forModel(directory: directory), bosToken: tokens.bos, eosToken: tokens.eos,
            segmenter: PromptSegmenter(tokenizer: languageModel.tokenizer))
        let blend = try BlendParameters(ratio: reuse.recomputeRatio)
        let quality = try await RAGServeQuality.measure(workload, languageModel: languageModel, questions: qualityQuestions, blend: blend) {
            ProgressBar(label: "quality").update($0, of: $1)
        }
        let levels = try levels()
        let scheduler = try Scheduler(languageModel: languageModel,
                                      configuration: try SchedulerConfiguration(maxSequences: levels.max() ?? 8, maxQueue: 256))
        let documents = try DocumentService(languageModel: languageModel,
                                            configuration: try DocumentsConfiguration(contextLimit: window - 1), directory: nil, reuse: reuse)
        let server = ReanchorServer(configuration: try ServerConfiguration(port: 0, modelID: directory.lastPathComponent,
                                                                          defaultChatMaxTokens: scheduler.context),
                                    scheduler: scheduler, template: workload.template, bosToken: tokens.bos, eosToken: tokens.eos,
                                    documents: documents, logger: Logger(label: "rag-serve", factory: { _ in SwiftLogNoOpLogHandler() }))
        let (addresses, continuation) = AsyncStream.makeStream(of: String.self)
        let serving = Task { try await server.run { continuation.yield($0) } }
        var iterator = addresses.makeAsyncIterator()
        guard let address = await iterator.next(), let base = URL(string: "http://\(address)") else { throw OptionError("the server did not start") }
        let settings = ["prefix"] + (try modes())
        let rows = try await CompletionClient.with(baseURL: base.absoluteString, connections: levels.max() ?? 8) { http in
            let client = RAGServeClient(client: http, model: directory.lastPathComponent)

            // First sight of every passage (stored by transparent reuse), not measured.
            let firstSight = ProgressBar(label: "first sight")
            for index in workload.questions.indices {
                firstSight.update(index, of: workload.questions.count)
                _ = try await client.chat(workload.messages(index, order: workload.order(index, seed: 1)), maxTokens: maxTokens, mode: "blend")
            }
            firstSight.update(workload.questions.count, of: workload.questions.count)
            var rows: [Row] = []
            for (round, level) in levels.enumerated() {
                for (slot, mode) in settings.enumerated() {
                    // A new order for every run: a whole prompt is never sent twice.
                    let seed = UInt64(10 + settings.count * round + slot)
                    rows.append(try await measure(workload, client: client, concurrency: level, mode: mode, seed: seed))
                    let row = rows[rows.count - 1]
                    say(String(format: "concurrency %2d, reuse %@: TTFT p50 %.1f ms, p99 %.1f ms, %.2f tok/s, chunk hit rate %.3f",
                               level, mode == "prefix" ? "off (prefix)" : "on (\(mode))", row.ttft_p50_ms, row.ttft_p99_ms, row.aggregate_tok_s,
                               row.chunk_hit_rate))
                }
            }
            return rows
        }
        await server.shutdown()
        serving.cancel()
        var speedups: [String: [String: Double]] = [:]
        for mode in settings.dropFirst() {
            for level in levels {
                let off = rows.first { $0.concurrency == level && $0.reuse == "prefix" }
                let on = rows.first { $0.concurrency == level && $0.reuse == mode }
                guard let off, let on, on.ttft_p50_ms > 0 else { continue }
                speedups[mode, default: [:]][String(level)] = off.ttft_p50_ms / on.ttft_p50_ms
                say(String(format: "concurrency %d: warm TTFT p50 %.2fx lower with reuse on (%@)", level, off.ttft_p50_ms / on.ttft_p50_ms, mode))
            }
        }
        for row in quality { say(String(format: "%@: KL to full %.4f, top-1 agreement %.2f", row.mode, row.kl_to_full, row.top1_agreement)) }
        let report = Report(model: directory.lastPathComponent, weights: languageModel.model.weights.formatDescription,
                            cpu: "kernels \(KernelPath.active.rawValue); \(KernelPath.cpuFeatureSummary)", questions: workload.questions.count, max_tokens: maxTokens, rows: rows,
                            ttft_p50_speedup: speedups, quality: quality)
        if let json { try Data((try jsonText(report) + "\n").utf8).write(to: URL(fileURLWithPath: json)) }
    }

    /// Every question once, its passages in a new order, `concurrency` requests in flight.
    private func measure(_ workload: RAGServeWorkload, client: RAGServeClient, concurrency: Int, mode: String, seed: UInt64) async throws -> Row {
        let count = workload.questions.count
        let started = Date()
        var answers: [(ServedAnswer, chunk: Int, hit: Int)] = []
        try await withThrowingTaskGroup(of: (ServedAnswer, Int, Int).self) { group in
            var next = 0
            func submit() throws {
                let messages = workload.messages(next, order: workload.order(next, seed: seed))
                let layout = try workload.layout(messages)
                group.addTask {
                    let answer = try await client.chat(messages, maxTokens: maxTokens, mode: mode)
                    let chunk = layout?.chunkTokenCount ?? 0
                    // The prefix (template header) hits after the first sight; the rest of what was cached or
                    // recomputed from library entries is chunk tokens.
                    let hit = min(chunk, max(0, answer.cachedTokens + answer.recomputedTokens - (layout?.prefix.count ?? 0)))
                    return (answer, chunk, hit)
                }
                next += 1
            }
            while next < min(concurrency, count) { try submit() }
            while let result = try await group.next() {
                answers.append(result)
                if next < count { try submit() }
            }
        }
        let wall = Date().timeIntervalSince(started)
        let ttfts = Percentiles(answers.map { $0.0.timeToFirstToken * 1000 })
        let chunkTokens = answers.reduce(0) { $0 + $1.chunk }
        return Row(concurrency: concurrency, reuse: mode, requests: answers.count, ttft_p50_ms: ttfts.value(50) ?? 0,
                   ttft_p99_ms: ttfts.value(99) ?? 0,
                   aggregate_tok_s: Double(answers.reduce(0) { $0 + $1.0.completionTokens }) / max(wall, 1e-9),
                   chunk_hit_rate: Double(answers.reduce(0) { $0 + $1.hit }) / Double(max(chunkTokens, 1)),
                   mean_cached_tokens: Double(answers.reduce(0) { $0 + $1.0.cachedTokens }) / Double(max(count, 1)),
                   mean_prompt_tokens: Double(answers.reduce(0) { $0 + $1.0.promptTokens }) / Double(max(count, 1)))
    }
}
