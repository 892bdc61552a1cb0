import ArgumentParser
import Bench
import Foundation
import RESP

/// `reanchor bench remote`: fetch latency and throughput from the shared Redis tier against recomputing.
struct BenchRemoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remote",
        abstract: "Remote-tier (Redis) fetch latency and GB/s per chunk size, against recomputing the chunk.")

    @OptionGroup var model: BenchModelOptions
    @Option(help: "Redis to measure (default: a redis-server of our own on a free loopback port).") var remote: String?
    @Option(help: "Comma-separated chunk sizes in tokens.") var tokens = "256,512,1024"
    @Option(help: "Timed fetches per measurement.") var repetitions = 9
    @Option(help: "Entries per pipelined round.") var pipelined = 16
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

    func validate() throws {
        _ = try sizes()
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
            .run(sizes: sizes, repetitions: repetitions, pipelined: pipelined) { printError("  \($0)") }
        withExtendedLifetime(server) {}
        say("\(report.shape) on \(report.server), pool of \(report.pool_size):")
        say("tokens  entry MB  recompute ms  fetch ms  fetch GB/s  verified hit ms  speedup  pipelined GB/s")
        for row in report.rows {
            say(String(format: "%6d %9.2f %13.1f %9.2f %11.2f %16.2f %8.1fx %15.2f", row.tokens, Double(row.entry_bytes) / 1e6,
                       row.recompute_ms, row.fetch_ms, row.fetch_gb_s, row.verified_hit_ms, row.speedup_over_recompute, row.pipelined_gb_s))
        }
        if let json { try Data((try jsonText(report) + "\n").utf8).write(to: URL(fileURLWithPath: json)) }
    }
}
