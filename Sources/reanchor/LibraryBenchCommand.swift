import ArgumentParser
import Bench
import Documents
import Engine
import Foundation
import RESP

/// `reanchor bench remote`: fetch latency and throughput from the shared Redis tier against recomputing.
struct BenchRemoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remote",
        abstract: "Remote-tier (Redis) store and fetch latency and GB/s per chunk size and entry format, against recomputing the chunk.")

    @OptionGroup var model: BenchModelOptions
    @Option(help: "Redis to measure (default: a redis-server of our own on a free loopback port).") var remote: String?
    @Option(help: "Comma-separated chunk sizes in tokens.") var tokens = "256,512,1024"
    @Option(help: "Comma-separated entry formats to measure (f32, bf16, f16, q8).") var libraryKv = KVFormat.allCases.map(\.rawValue).joined(separator: ",")
    @Option(help: "Timed operations per median.") var repetitions = 9
    @Option(help: "Distinct entries per pipelined round.") var pipelined = 8
    @Option(help: "Connections in the client's pool.") var pool = 4
    @Option(help: "Write the JSON report here.") var json: String?

    func sizes() throws -> [Int] {
        try tokens.split(separator: ",").map { text in
            guard let size = Int(text.trimmingCharacters(in: .whitespaces)), size >= 16 else {
                throw ValidationError("--tokens: '\(text)' is not a size >= 16")
            }
            return size
        }
    }

    func formats() throws -> [KVFormat] { try kvFormatList(libraryKv) }

    func validate() throws {
        _ = try sizes()
        _ = try formats()
        guard (1...1000).contains(repetitions) else { throw ValidationError("--repetitions must be in 1...1000, found \(repetitions)") }
        guard (1...256).contains(pipelined) else { throw ValidationError("--pipelined must be in 1...256, found \(pipelined)") }
        guard (1...64).contains(pool) else { throw ValidationError("--pool must be in 1...64, found \(pool)") }
    }

    mutating func run() async throws {
        let sizes = try sizes()
        let (llama, label) = try model.load()
        guard let largest = sizes.max(), largest + 16 <= llama.config.maxPositionEmbeddings else {
            throw ValidationError("--tokens: sizes must fit the model's window of \(llama.config.maxPositionEmbeddings) tokens")
        }
        var server: LocalRedisServer? = nil
        let url: RedisURL
        if let remote {
            url = try RedisURL(remote)
        } else {
            let local = try LocalRedisServer()
            server = local
            url = try local.url()
        }
        var options = RedisClientOptions()
        options.poolSize = pool
        options.commandTimeout = .seconds(30)
        options.limits.maximumBulkBytes = 1 << 30
        let client = RedisClient(url: url, options: options)
        let report = try await RemoteBenchmark(model: llama, label: label, client: client)
            .run(sizes: sizes, formats: try formats(), repetitions: repetitions, pipelined: pipelined) { printError("  \($0)") }
        withExtendedLifetime(server) {}
        say("\(report.shape) on \(report.server), pool of \(report.pool_size), load average \(report.load_average.map { String(format: "%.1f", $0) }.joined(separator: " -> ")):")
        say("tokens  kv    B/token  recompute ms  encode ms  set ms  store GB/s  get ms  wire GB/s  sha ms  decode ms  hit ms  hit GB/s  speedup  pipelined GB/s")
        for row in report.rows {
            say(String(format: "%6d  ", row.tokens) + row.kv.padding(toLength: 5, withPad: " ", startingAt: 0)
                + String(format: "%8d %13.1f %10.2f %7.2f %11.2f %7.2f %10.2f %7.2f %10.2f %7.2f %9.2f %7.0fx %15.2f",
                         row.bytes_per_token, row.recompute_ms, row.encode_ms, row.set_ms, row.store_gb_s, row.get_ms,
                         row.get_wire_gb_s, row.checksum_ms, row.decode_ms, row.verified_hit_ms, row.hit_gb_s,
                         row.speedup_over_recompute, row.pipelined_hit_gb_s))
        }
        if let json { try Data((try jsonText(report) + "\n").utf8).write(to: URL(fileURLWithPath: json)) }
    }
}

/// `reanchor bench library-kv`: the quality cost of each library entry format on a real model and text.
struct BenchLibraryKVCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "library-kv",
        abstract: "KL, top-1 and perplexity of re-anchored reuse from compact library entries against f32 entries.")

    @OptionGroup var model: ModelOptions
    @Option(help: "UTF-8 text the prompts are cut from (chunks, then the continuation that is scored).") var text: String
    @Option(help: "Comma-separated entry formats (f32, bf16, f16, q8).") var libraryKv = KVFormat.allCases.map(\.rawValue).joined(separator: ",")
    @Option(help: "Prompts cut from the text.") var prompts = 8
    @Option(help: "Chunks per prompt.") var chunks = 4
    @Option(help: "Tokens per chunk.") var chunkTokens = 64
    @Option(help: "Tokens after the chunks whose predictions are compared.") var continuationTokens = 32
    @Option(help: "Write the JSON report here.") var json: String?

    mutating func run() async throws {
        let formats = try kvFormatList(libraryKv)
        let experiment = try validated {
            try EntryFormatExperiment(formats: formats, prompts: prompts, chunks: chunks, chunkTokens: chunkTokens,
                                      continuationTokens: continuationTokens)
        }
        let languageModel = try model.load()
        let corpus = try String(contentsOf: URL(fileURLWithPath: text), encoding: .utf8)
        let report = try await experiment.run(languageModel: languageModel, text: corpus, label: languageModel.directory.lastPathComponent)
        say(String(format: "%@: %d prompts of %d chunks x %d tokens, %d scored positions; full recompute perplexity %.3f",
                   report.model, report.prompts, report.chunks, report.chunk_tokens, report.positions, report.full_perplexity))
        say("kv    bytes/token  KL to f32 entries  max KL     top-1   perplexity  KL to full")
        for row in report.rows {
            say(row.kv.padding(toLength: 5, withPad: " ", startingAt: 0)
                + String(format: " %11d %18.2e %10.2e %7.4f %11.3f %11.2e", row.bytes_per_token, row.kl_to_f32_entries,
                         row.max_kl_to_f32_entries, row.top1_agreement, row.continuation_perplexity, row.kl_to_full))
        }
        if let json { try Data((try jsonText(report) + "\n").utf8).write(to: URL(fileURLWithPath: json)) }
    }
}
