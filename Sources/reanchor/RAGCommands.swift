import Bench
import ArgumentParser
import Documents
import Engine
import Foundation
import Models
import RESP
import Tokenizers


/// `reanchor bench rag`: the reuse modes on MuSiQue-style questions.
struct RAGBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rag",
        abstract: "Compare full, prefix, naive, anchored and blend reuse on retrieval-augmented questions.")

    @OptionGroup var model: ModelOptions
    @Option(help: "Random-weight shape for timing instead of --model (the tokenizer comes from --model).") var shape: ModelShape?
    @Option(help: "JSON list of {ctxs: [{title, text}], question, answers}.") var dataset = "../shared/corpora/musique/musique_s.json"
    @Option(help: "Questions to run.") var questions = 10
    @Option(help: "Passages per question (fewer are used when they do not fit the context).") var passages = 10
    @Option(help: "Shuffled passage orders after the first.") var shuffleOrders = 2
    @Option(help: "Blend: fraction of chunk tokens recomputed.") var blendRatio = 0.15
    @Option(help: "Blend: layer where deviation is measured.") var checkLayer = 1
    @Option(help: "Blend: deviation ranked by keys, values or both.") var deviation = BlendParameters.standard.deviation
    @Option(help: "Prompt token budget: passages are cut to fit (default: the model's context; 2048 with --shape).") var context: Int?
    @Option(help: "Comma-separated modes to run (full always runs, as the reference).") var modes = ReuseMode.allCases.map(\.rawValue).joined(separator: ",")
    @Flag(help: "Skip the attention-similarity capture (timing runs; implied by --shape).") var noAttention = false
    @Option(help: "Write the JSON report here.") var json: String?
    @Option(help: "Write an SVG figure here.") var plot: String?

    func parseModes() throws -> Set<ReuseMode> {
        Set(try modes.split(separator: ",").map { name in
            guard let mode = ReuseMode(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--modes: unknown mode '\(name)'; use \(ReuseMode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return mode
        })
    }

    mutating func run() async throws {
        let languageModel = try model.load()
        var llama = languageModel.model
        var label = languageModel.directory.lastPathComponent
        if let shape {
            let base = try shape.config()
            let config = try base.with(maxPositionEmbeddings: max(context ?? 2048, base.maxPositionEmbeddings))
            llama = try LlamaModel(config: config, weights: .random(config: config, format: model.weights.storage(for: .f32),
                                                                          vocabularyFormat: model.weights.storage(for: .f32, role: .vocabulary)))
            label = shape.rawValue + " (random weights)"
        }
        let experiment = try RAGExperiment(questions: questions, passages: passages, shuffleOrders: shuffleOrders,
                                           blend: try BlendParameters(ratio: blendRatio, checkLayer: checkLayer, deviation: deviation),
                                           captureAttention: !noAttention && shape == nil,
                                           context: context ?? (shape == nil ? nil : 2048), modes: try parseModes())
        let items = try RAGQuestion.load(URL(fileURLWithPath: dataset))
        let bar = ProgressBar(label: "rag")
        let report = try await experiment.run(languageModel: languageModel, model: llama, dataset: items, label: label) { bar.update($0, of: $1) }
        say(String(format: "\n%@: %d questions, %.0f prompt tokens on average", report.model, report.questions, report.mean_prompt_tokens))
        say("mode       TTFT cold ms  TTFT warm ms  warm/full  answer PPL  KL to full  top-1   attention sim  hit rate  bytes/token")
        for row in report.modes {
            say(row.mode.padding(toLength: 10, withPad: " ", startingAt: 0)
                + String(format: " %12.2f %13.2f %10.3f %11.2f %11.5f %6.2f %@ %9.2f %12.0f", row.ttft_ms_cold, row.ttft_ms_warm,
                         row.ttft_ratio_to_full_warm, row.answer_perplexity, row.kl_to_full, row.top1_agreement,
                         row.attention_similarity.map { String(format: "%14.4f", $0) } ?? "             -",
                         row.hit_rate_shuffled, row.library_bytes_per_token))
        }
        if let json { try Data((try jsonText(report) + "\n").utf8).write(to: URL(fileURLWithPath: json)) }
        if let plot {
            try Data(report.chart().render().utf8).write(to: URL(fileURLWithPath: plot))
        }
    }
}

/// `reanchor rag`: answer a question over your own documents with chunk reuse, and show the reuse figures.
struct RAGCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rag", abstract: "Answer a question over documents, reusing their KV.")

    @OptionGroup var model: ModelOptions
    @Option(help: "A text file (passages separated by blank lines) or a directory of .txt files.") var docs: String
    @Option(help: "The question.") var question: String
    @Option(help: "Reuse mode: full, prefix, naive, anchored, blend.") var mode = ReuseMode.blend
    @Option(help: "Directory of the persistent document library (default: memory only).") var library: String?
    @Option(help: "Tenant id for a private namespace (default: public).") var tenant: String?
    @Option(help: "Shared remote tier behind memory and disk: redis://[user:password@]host:port/db.") var remote: String?
    @Option(help: "Seconds remote entries live (default: until Redis evicts them).") var remoteTtl: Double?
    @Option(parsing: .unconditional, help: "Tokens to generate (at most what fits the model's context after the prompt).") var maxTokens = 32
    @Flag(help: "Print the answer and the reuse figures as one JSON object.") var json = false

    func validate() throws {
        guard maxTokens >= 0 else { throw ValidationError("--max-tokens must be >= 0, found \(maxTokens)") }
        if let library, library.isEmpty { throw ValidationError("--library is empty: give a directory path") }
        if let remoteTtl, !(remoteTtl > 0 && remoteTtl < 1e9) { throw ValidationError("--remote-ttl must be a number of seconds > 0, found \(remoteTtl)") }
    }

    /// What `--json` prints.
    struct Report: Codable {
        var answer: String
        var mode: String
        var prompt_tokens: Int
        var reused_tokens: Int
        var recomputed_tokens: Int
        var chunk_tokens_from_library: Int
        var library_hits: Int
        var library_misses: Int
        var completion_tokens: Int
        var first_logits_ms: Double
        var stop_reason: String
        var library_corrupt_discarded: Int
        var library_store_failures: Int
        var remote_hits: Int?
        var remote_faults: Int?
        var remote_corrupt_discarded: Int?
        /// Entries discarded or not stored in this run: file and reason.
        var library_events: [String]
    }

    mutating func run() async throws {
        let passages = try PassageReader.passages(at: docs)
        let languageModel = try model.load()
        let namespace = try tenant.map { try Namespace.tenant(id: $0) } ?? .shared
        let geometry = try languageModel.model.libraryGeometry()
        let remoteTier = try remote.map { text in
            RemoteTier(url: try RedisURL(text), geometry: geometry, timeToLive: remoteTtl.map { .milliseconds(Int64($0 * 1000)) })
        }
        let store = try DocumentLibrary(fingerprint: languageModel.fingerprint, geometry: geometry, path: library, remote: remoteTier)
        let composer = PromptComposer(model: languageModel.model, library: store, namespace: namespace)
        let prompt = RAGTemplate().prompt(passages: passages, question: question, tokenizer: languageModel.tokenizer,
                                          bos: languageModel.config.bosTokenID)
        let request = try GenerationRequest(maxTokens: maxTokens)
        let budget = request.tokensThatFit(promptTokens: prompt.tokens.count, context: languageModel.config.usableWindow)
        let composition = try await composer.compose(prompt, mode: mode, extraCapacity: budget)
        let generator = try Generator(languageModel: languageModel)
        let quiet = json
        let result = try generator.continueGeneration(cache: composition.cache, logits: composition.logits, cached: prompt.tokens,
                                                      request: try GenerationRequest(maxTokens: budget),
                                                      onText: { if !quiet { printFlush($0) } })
        let statistics = await store.statistics
        let events = await store.takeEvents()
        if json {
            let report = Report(answer: result.text, mode: mode.rawValue, prompt_tokens: composition.promptTokens,
                                reused_tokens: composition.reusedTokens, recomputed_tokens: composition.recomputedTokens,
                                chunk_tokens_from_library: composition.chunkTokensFromLibrary, library_hits: composition.libraryHits,
                                library_misses: composition.libraryMisses, completion_tokens: result.tokens.count,
                                first_logits_ms: composition.seconds * 1000, stop_reason: result.stopReason.rawValue,
                                library_corrupt_discarded: statistics.disk?.corrupt ?? 0, library_store_failures: statistics.disk?.storeFailures ?? 0,
                                remote_hits: statistics.remote?.hits, remote_faults: statistics.remote?.faults,
                                remote_corrupt_discarded: statistics.remote?.corrupt,
                                library_events: events.map(\.description))
            print(try jsonText(report))
            return
        }
        printFlush("\n")
        for event in events { printError("library: \(event)") }
        printError(String(format: "mode %@: %d prompt tokens, %d reused (%d chunk tokens from the library, %d recomputed); "
                          + "library %d hits, %d misses; first logits in %.1f ms; library %d entries, %d bytes in memory, %d corrupt discarded, %d stores failed",
                          mode.rawValue, composition.promptTokens, composition.reusedTokens, composition.chunkTokensFromLibrary,
                          composition.recomputedTokens, composition.libraryHits, composition.libraryMisses, composition.seconds * 1000,
                          statistics.memory.entries, statistics.memory.bytes, statistics.disk?.corrupt ?? 0,
                          statistics.disk?.storeFailures ?? 0))
        if let remote = statistics.remote {
            printError("remote tier: \(remote.hits) hits, \(remote.misses) misses, \(remote.faults) faults, \(remote.corrupt) corrupt discarded, "
                       + "\(remote.storeFailures) stores refused")
        }
    }
}
