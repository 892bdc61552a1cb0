import ArgumentParser
import Engine
import Foundation
import Logging
import Models
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
    @Option(help: "Serve a random-weight model of this shape instead (for `bench serve`; the embedded model's tokenizer and plain chat prompt).")
    var shape: ModelShape?

    func validate() throws {
        if shape != nil, model.model != nil { throw ValidationError("--shape serves random weights: not with --model") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535, found \(port)") }
        if apiKeys == nil && !ServerConfiguration.isLoopback(host) {
            throw ValidationError("--host \(host) is not a loopback address: serving beyond this machine needs --api-keys FILE")
        }
        _ = try schedulerConfiguration(inRun: false)
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
        let scheduler = try validated { try makeScheduler(directory: directory) }
        let configuration = try serverValidated {
            try ServerConfiguration(host: host, port: port, apiKeys: keys, modelID: shape?.rawValue ?? directory.standardizedFileURL.lastPathComponent,
                                    defaultChatMaxTokens: scheduler.context)
        }
        let server = ReanchorServer(configuration: configuration, scheduler: scheduler, template: template,
                                    bosToken: tokens.bos, eosToken: tokens.eos, logger: logger)
        say("model: \(configuration.modelID) (chat template: \(template.isFallback ? "plain fallback" : template.name))")
        try await server.run { address in say("listening on http://\(address)") }
        say("server stopped")
    }

    /// The scheduler over the model directory, or over random weights of `--shape` with that directory's
    /// tokenizer (the embedded model's: ids it does not know decode to no text).
    private func makeScheduler(directory: URL) throws -> Scheduler {
        guard let shape else { return try Scheduler(languageModel: try model.load(), configuration: try schedulerConfiguration()) }
        let config = try shape.config()
        let format = model.weights.storage(for: .f32)
        say("building random \(shape.rawValue) model (\(format.rawValue) weights)...")
        let weights = LlamaWeights.random(config: config, format: format, vocabularyFormat: model.weights.storage(for: .f32, role: .vocabulary))
        let tokenizer = try BPETokenizer(contentsOf: directory.appendingPathComponent("tokenizer.json"))
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
