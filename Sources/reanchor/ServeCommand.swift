import ArgumentParser
import Documents
import Engine
import Foundation
import Logging
import Models
import RESP
import Server
import Tokenizers
import Templates

/// `reanchor serve`: the OpenAI-compatible HTTP server over the continuous-batching scheduler.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the model over the OpenAI API (completions, chat, streaming, metrics).")

    @OptionGroup var model: ModelOptions
    @Option(help: "Address to bind; beyond loopback it needs --api-keys.") var host = "127.0.0.1"
    @Option(help: "Port (0: a free one; the bound address is printed).") var port = 8080
    @Option(help: "JSON file {\"keys\": [{\"key\", \"tenant\", \"admin\"}]}; requests then need Authorization: Bearer KEY.")
    var apiKeys: String?
    @Option(help: "Sequences decoding at once (>= 1).") var maxSequences = 8
    @Option(help: "Requests waiting for admission (>= 0); beyond it, 429.") var maxQueue = 64
    @Option(help: "KV memory budget in bytes (default: the context times --max-sequences).") var kvMemory: Int?
    @Option(help: "Context window per sequence in tokens (default: the model's).") var context: Int?
    @Option(help: "Jinja chat template file, instead of the model's tokenizer_config.json template.") var chatTemplate: String?
    @Option(help: "Document library directory: chunks' K/V and document records survive restarts (default: memory only).")
    var library: String?
    @Option(help: "Most tokens per document chunk (text is cut at paragraph boundaries).") var chunkTokens = 512
    @Option(help: "Documents of more tokens are prefilled in the background (status processing, then ready).")
    var backgroundTokens = 2048
    @Option(help: "Shared remote tier and document records in Redis: redis://[user:password@]host:port/db (replicas share it).")
    var remote: String?
    @Option(help: "Seconds remote entries live (default: until Redis evicts them).") var remoteTtl: Double?
    @Option(help: "How the library stores chunk K/V: f32, bf16, f16, q8.") var libraryKv = KVFormat.standard
    @Option(help: "Default library reuse of prompts: full, prefix, anchored or blend (a request's reanchor.reuse overrides it).")
    var reuse = "blend"
    @Option(help: "Share of chunk tokens blend recomputes (CacheBlend), in [0, 1].") var recomputeRatio = 0.15
    @Option(help: "Chunk tokens a pasted prompt needs before transparent reuse composes it from the library.") var reuseMinTokens = 32
    @Option(help: "Serve a random-weight model of this shape instead (for `bench serve`; the embedded model's tokenizer and plain chat prompt, no document library).")
    var shape: ModelShape?

    func validate() throws {
        if shape != nil, model.model != nil { throw ValidationError("--shape serves random weights: not with --model") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535, found \(port)") }
        if apiKeys == nil && !ServerConfiguration.isLoopback(host) {
            throw ValidationError("--host \(host) is not a loopback address: serving beyond this machine needs --api-keys FILE")
        }
        _ = try schedulerConfiguration(inRun: false)
        _ = try serverValidated { try reuseConfiguration() }
        if let remote { _ = try validatedRedisURL(remote) }
        if let remoteTtl, !(remoteTtl > 0 && remoteTtl < 1e9) { throw ValidationError("--remote-ttl must be a number of seconds > 0, found \(remoteTtl)") }
    }

    func reuseConfiguration() throws -> ReuseConfiguration {
        guard let mode = ReuseMode(rawValue: reuse) else {
            throw ServerError.option(name: "reuse", reason: "must be one of "
                                     + ReuseConfiguration.modes.map(\.rawValue).joined(separator: ", ") + ", found '\(reuse)'")
        }
        return try ReuseConfiguration(mode: mode, recomputeRatio: recomputeRatio, minimumChunkTokens: reuseMinTokens)
    }

    func schedulerConfiguration(inRun: Bool = true) throws -> SchedulerConfiguration {
        try validated(inRun: inRun) {
            try SchedulerConfiguration(maxSequences: maxSequences, maxQueue: maxQueue, kvMemoryBytes: kvMemory, context: context)
        }
    }

    func run() async throws {
        let logger = Logger(label: "reanchor.serve", factory: { StreamLogHandler.standardError(label: $0) })
        let keys = try apiKeys.map { path in try serverValidated { try APIKeys(contentsOf: URL(fileURLWithPath: path)) } }
        let directory = try model.directory()
        let template = try chatTemplate.map { path in try ChatTemplateFile.load(path) } ?? ChatTemplate.forModel(directory: directory)
        let tokens = try ChatTemplateFile.specialTokens(modelDirectory: directory)
        guard shape == nil else {
            let scheduler = try validated { try randomScheduler(tokenizerDirectory: directory) }
            return try await serve(scheduler: scheduler, modelID: shape?.rawValue ?? "", template: template, tokens: tokens, documents: nil,
                                   keys: keys, logger: logger)
        }
        let languageModel = try model.load()
        let scheduler = try validated { try Scheduler(languageModel: languageModel, configuration: try schedulerConfiguration()) }
        let documents = try serverValidated {
            let context = languageModel.tokenizer.encode("", addSpecialTokens: true).count
            let settings = try DocumentsConfiguration(chunkTokens: chunkTokens, backgroundTokens: backgroundTokens,
                                                      contextLimit: languageModel.config.usableWindow - context)
            return try DocumentService(languageModel: languageModel, configuration: settings, directory: library,
                                       reuse: try reuseConfiguration(), remote: try remote.map(validatedRedisURL),
                                       remoteTimeToLive: remoteTtl.map { .milliseconds(Int64($0 * 1000)) }, entryFormat: libraryKv)
        }
        try await serve(scheduler: scheduler, modelID: directory.standardizedFileURL.lastPathComponent, template: template, tokens: tokens,
                        documents: documents, keys: keys, logger: logger)
    }

    private func serve(scheduler: Scheduler, modelID: String, template: ChatTemplate, tokens: (bos: String?, eos: String?),
                       documents: DocumentService?, keys: APIKeys?, logger: Logger) async throws {
        let configuration = try serverValidated {
            try ServerConfiguration(host: host, port: port, apiKeys: keys, modelID: modelID, defaultChatMaxTokens: scheduler.context)
        }
        let server = ReanchorServer(configuration: configuration, scheduler: scheduler, template: template,
                                    bosToken: tokens.bos, eosToken: tokens.eos, documents: documents, logger: logger)
        say("model: \(configuration.modelID) (chat template: \(template.isFallback ? "plain fallback" : template.name))")
        try await server.run { address in say("listening on http://\(address)") }
        say("server stopped")
    }

    /// A scheduler over random weights of `--shape`, with the tokenizer of `tokenizerDirectory` (the embedded
    /// model's: ids it does not know decode to no text).
    private func randomScheduler(tokenizerDirectory: URL) throws -> Scheduler {
        let shape = shape ?? .tiny
        let config = try shape.config()
        let format = model.weights.storage(for: .f32)
        say("building random \(shape.rawValue) model (\(format.rawValue) weights)...")
        let weights = LlamaWeights.random(config: config, format: format, vocabularyFormat: model.weights.storage(for: .f32, role: .vocabulary))
        let tokenizer = try BPETokenizer(contentsOf: tokenizerDirectory.appendingPathComponent("tokenizer.json"))
        return try Scheduler(model: try LlamaModel(config: config, weights: weights), tokenizer: tokenizer, configuration: try schedulerConfiguration())
    }
}

/// A `ServerError` becomes an option error printed without the usage text.
private func serverValidated<T>(_ build: () throws -> T) throws -> T {
    do {
        return try build()
    } catch let error as ServerError {
        throw OptionError(error.description)
    }
}

/// `--remote`: a `redis://` URL, or an option error naming the flag.
private func validatedRedisURL(_ text: String) throws -> RedisURL {
    do {
        return try RedisURL(text)
    } catch {
        throw ValidationError("--remote: \(error)")
    }
}
