import Cache
import Documents
import Engine
import Foundation
import Models
import NIOCore
import RESP

/// How fast a chunk's K/V comes back from the shared Redis tier, against recomputing it: per chunk size,
/// the prefill that makes the chunk, one raw `GET`, one verified remote hit (`GET`, checksum, key,
/// geometry, decode) and pipelined `GET`s of several entries over the client's pool.
public struct RemoteBenchmark {
    public let model: LlamaModel
    public let label: String
    public let client: RedisClient

    public init(model: LlamaModel, label: String, client: RedisClient) {
        self.model = model
        self.label = label
        self.client = client
    }

    public struct Row: Codable, Sendable {
        public var tokens: Int
        public var entry_bytes: Int
        public var bytes_per_token: Int
        /// Prefill of the chunk alone and export of its K/V: what a miss costs.
        public var recompute_ms: Double
        /// One `GET` of the entry (median).
        public var fetch_ms: Double
        public var fetch_gb_s: Double
        /// `RemoteTier.entry(for:)`: fetch, checksum, key and geometry checks, decode (median).
        public var verified_hit_ms: Double
        /// recompute_ms / verified_hit_ms.
        public var speedup_over_recompute: Double
        /// `pipelined_entries` entries fetched by concurrent pipelines over the pool (best of the repetitions).
        public var pipelined_entries: Int
        public var pipelined_gb_s: Double
    }

    public struct Report: Codable, Sendable {
        public var shape: String
        public var server: String
        public var pool_size: Int
        public var repetitions: Int
        public var rows: [Row]
    }

    /// - sizes: chunk sizes in tokens; repetitions: timed fetches per measurement; pipelined: entries per pipelined round.
    public func run(sizes: [Int], repetitions: Int, pipelined: Int, progress: (String) -> Void = { _ in }) async throws -> Report {
        let geometry = try ModelGeometry(model.cacheGeometry(capacity: 1))
        let fingerprint = Fingerprint(model: "bench-remote-\(label)", tokenizer: "none")
        var limits = EntryLimits()
        limits.maximumEntryBytes = 1 << 30
        let client = self.client
        let tier = RemoteTier(client: client, geometry: geometry, limits: limits)
        var rows: [Row] = []
        for size in sizes {
            let tokens = (0..<size).map { ($0 * 7919 + 13) % model.config.vocabularySize }
            progress("recompute \(size) tokens")
            let cache = model.makeCache(capacity: size + 16)
            _ = try model.forward(tokens: Array(tokens.prefix(16)), positions: Array(0..<16), cache: cache)  // warm-up
            cache.clear()
            let start = Clock.now()
            _ = try model.forward(tokens: tokens, positions: Array(0..<size), cache: cache)
            let slice = try cache.export(sequence: 0, range: 0..<size)
            let recompute = Clock.now() - start
            let entry = ChunkEntry(namespace: .shared, fingerprint: fingerprint, tokens: tokens, slice: slice)
            try await tier.store(entry)
            let key = RemoteTier.remoteKey(entry.key)
            guard let stored = try await client.get(key) else { throw RESPError.connectionClosed("the entry was not stored") }
            let bytes = stored.readableBytes
            progress("fetch \(size) tokens (\(bytes) bytes) x\(repetitions)")
            var fetches: [Double] = []
            for _ in 0..<repetitions {
                let started = Clock.now()
                _ = try await client.get(key)
                fetches.append(Clock.now() - started)
            }
            var hits: [Double] = []
            for _ in 0..<repetitions {
                let started = Clock.now()
                guard await tier.entry(for: entry.key)?.slice == entry.slice else { throw RESPError.connectionClosed("the verified hit failed") }
                hits.append(Clock.now() - started)
            }
            progress("pipelined fetch of \(pipelined) entries")
            let keys = (0..<pipelined).map { "\(key):copy\($0)" }
            _ = try await client.pipeline(keys.map { RESPCommand([ByteBuffer(string: "SET"), ByteBuffer(string: $0), stored]) })
            var best = Double.infinity
            let pool = max(client.options.poolSize, 1)
            for _ in 0..<repetitions {
                let started = Clock.now()
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for part in 0..<pool {
                        let share = stride(from: part, to: keys.count, by: pool).map { keys[$0] }
                        group.addTask { try await client.get(share).reduce(0) { $0 + ($1?.readableBytes ?? 0) } }
                    }
                    var total = 0
                    for try await received in group { total += received }
                    guard total == bytes * pipelined else { throw RESPError.connectionClosed("pipelined fetch returned \(total) bytes") }
                }
                best = min(best, Clock.now() - started)
            }
            try await client.delete(keys + [key])
            let fetch = Self.median(fetches), hit = Self.median(hits)
            rows.append(Row(tokens: size, entry_bytes: bytes, bytes_per_token: bytes / size, recompute_ms: recompute * 1000,
                            fetch_ms: fetch * 1000, fetch_gb_s: Double(bytes) / fetch / 1e9, verified_hit_ms: hit * 1000,
                            speedup_over_recompute: recompute / hit, pipelined_entries: pipelined,
                            pipelined_gb_s: Double(bytes * pipelined) / best / 1e9))
        }
        return Report(shape: label, server: client.url.description, pool_size: client.options.poolSize, repetitions: repetitions, rows: rows)
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }
}
