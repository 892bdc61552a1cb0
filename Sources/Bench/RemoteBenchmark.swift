import Cache
import Documents
import Engine
import Foundation
import Models
import NIOCore
import RESP

/// How fast a chunk's K/V goes to and comes back from the shared Redis tier, per chunk size and entry format
/// (`KVFormat`), against recomputing it. Each row times, as medians: the prefill that makes the chunk; encoding
/// the entry (narrowing, checksum) and its `SET`; one raw `GET`; the SHA-256 check and the decode of the
/// received value apart; one verified remote hit (`RemoteTier.entry(for:)`: GET, checksum, key, geometry,
/// decode); and the best of several rounds of verified hits of distinct entries over the client's pool.
/// Throughputs are in GB/s of decoded (f32) K/V delivered, the figure a reader of the cache sees, and of
/// bytes on the wire for the raw `GET`.
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
        public var kv: String
        public var entry_bytes: Int
        /// Entry bytes (header, payload, checksum) per token.
        public var bytes_per_token: Int
        /// f32 K/V a hit delivers (the slice).
        public var kv_bytes: Int
        /// Prefill of the chunk alone and export of its K/V: what a miss costs.
        public var recompute_ms: Double
        /// `RemoteTier.encode`: narrowing to the format and the checksum.
        public var encode_ms: Double
        /// One `SET` of the encoded entry.
        public var set_ms: Double
        /// kv_bytes / (encode_ms + set_ms).
        public var store_gb_s: Double
        /// One raw `GET` of the entry, and its wire GB/s.
        public var get_ms: Double
        public var get_wire_gb_s: Double
        /// The SHA-256 check of the received value alone.
        public var checksum_ms: Double
        /// Decoding the received value without its checksum (header checks, widening, finiteness, key).
        public var decode_ms: Double
        /// `RemoteTier.entry(for:)`: get, checksum, decode (median), and kv_bytes / that time.
        public var verified_hit_ms: Double
        public var hit_gb_s: Double
        /// recompute_ms / verified_hit_ms.
        public var speedup_over_recompute: Double
        /// `pipelined_entries` distinct entries fetched by verified hits spread over the pool's connections
        /// (best round): GB/s of decoded K/V.
        public var pipelined_entries: Int
        public var pipelined_hit_gb_s: Double
    }

    public struct Report: Codable, Sendable {
        public var shape: String
        public var server: String
        public var pool_size: Int
        public var repetitions: Int
        /// 1-minute load average when the run started and ended (other work on the machine skews timings).
        public var load_average: [Double]
        public var rows: [Row]
    }

    /// - sizes: chunk sizes in tokens; formats: entry formats, each measured on the same chunk; repetitions:
    ///   timed operations per median; pipelined: distinct entries per pipelined round.
    public func run(sizes: [Int], formats: [KVFormat], repetitions: Int, pipelined: Int,
                    progress: (String) -> Void = { _ in }) async throws -> Report {
        let loadBefore = Self.loadAverage()
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
            for format in formats {
                let entry = ChunkEntry(namespace: .shared, fingerprint: fingerprint, tokens: tokens, slice: slice, format: format)
                guard entry.format == format else { throw BenchError.failed("the chunk cannot be stored as \(format)") }
                let key = RemoteTier.remoteKey(entry.key)
                progress("\(format): encode and set \(size) tokens x\(repetitions)")
                let encodes = try Self.timed(repetitions) { _ = try RemoteTier.encode(entry) }
                let value = try RemoteTier.encode(entry)
                let sets = try await Self.timed(repetitions) { try await client.set(key, value) }
                progress("\(format): get, checksum, decode \(size) tokens (\(value.readableBytes) bytes) x\(repetitions)")
                let gets = try await Self.timed(repetitions) { _ = try await client.get(key) }
                guard let received = try await client.get(key), received == value else { throw BenchError.failed("GET returned another value") }
                let checksums = try Self.timed(repetitions) {
                    guard RemoteTier.checksumMatches(received) else { throw BenchError.failed("checksum mismatch") }
                }
                let decodes = try Self.timed(repetitions) { _ = try RemoteTier.decode(received, limits: limits, model: geometry) }
                let hits = try await Self.timed(repetitions) {
                    guard await tier.entry(for: entry.key) != nil else { throw BenchError.failed("the verified hit failed") }
                }
                guard await tier.entry(for: entry.key)?.slice == entry.slice else { throw BenchError.failed("the hit's K/V differ") }
                progress("\(format): verified hits of \(pipelined) entries over the pool")
                let copies = (0..<pipelined).map {
                    ChunkEntry(namespace: .shared, fingerprint: fingerprint, context: [$0], tokens: tokens, slice: entry.slice, format: format)
                }
                for copy in copies { try await tier.store(copy) }
                let pool = max(client.options.poolSize, 1)
                var best = Double.infinity
                for _ in 0..<repetitions {
                    let started = Clock.now()
                    let served = await withTaskGroup(of: Int.self) { group in
                        for part in 0..<pool {
                            let share = stride(from: part, to: copies.count, by: pool).map { copies[$0].key }
                            group.addTask {
                                var served = 0
                                for key in share where await tier.entry(for: key) != nil { served += 1 }
                                return served
                            }
                        }
                        return await group.reduce(0, +)
                    }
                    guard served == copies.count else { throw BenchError.failed("\(copies.count - served) pipelined hits failed") }
                    best = min(best, Clock.now() - started)
                }
                try await client.delete(copies.map { RemoteTier.remoteKey($0.key) } + [key])
                let kvBytes = slice.byteCount
                let encode = Self.median(encodes), set = Self.median(sets), get = Self.median(gets)
                let checksum = Self.median(checksums), decode = Self.median(decodes), hit = Self.median(hits)
                rows.append(Row(tokens: size, kv: format.rawValue, entry_bytes: value.readableBytes, bytes_per_token: value.readableBytes / size,
                                kv_bytes: kvBytes, recompute_ms: recompute * 1000, encode_ms: encode * 1000, set_ms: set * 1000,
                                store_gb_s: Double(kvBytes) / (encode + set) / 1e9, get_ms: get * 1000,
                                get_wire_gb_s: Double(value.readableBytes) / get / 1e9, checksum_ms: checksum * 1000,
                                decode_ms: max(decode - checksum, 0) * 1000, verified_hit_ms: hit * 1000,
                                hit_gb_s: Double(kvBytes) / hit / 1e9, speedup_over_recompute: recompute / hit,
                                pipelined_entries: pipelined, pipelined_hit_gb_s: Double(kvBytes * pipelined) / best / 1e9))
            }
        }
        return Report(shape: label, server: client.url.description, pool_size: client.options.poolSize, repetitions: repetitions,
                      load_average: [loadBefore, Self.loadAverage()], rows: rows)
    }

    enum BenchError: Error, CustomStringConvertible {
        case failed(String)
        var description: String {
            switch self {
            case .failed(let reason): return "bench remote: \(reason)"
            }
        }
    }

    /// Durations in seconds of `count` runs of `body`.
    static func timed(_ count: Int, _ body: () throws -> Void) throws -> [Double] {
        try (0..<count).map { _ in
            let started = Clock.now()
            try body()
            return Clock.now() - started
        }
    }

    static func timed(_ count: Int, _ body: () async throws -> Void) async throws -> [Double] {
        var durations: [Double] = []
        for _ in 0..<count {
            let started = Clock.now()
            try await body()
            durations.append(Clock.now() - started)
        }
        return durations
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    /// The 1-minute load average (`/proc/loadavg`), or 0 where it cannot be read.
    static func loadAverage() -> Double {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)).flatMap { $0.split(separator: " ").first.flatMap { Double($0) } } ?? 0
    }
}
