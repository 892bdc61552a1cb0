import Foundation
import NIOCore
import RESP

/// Entries in a Redis (or Valkey) server shared by every replica: one key per entry, value = the entry
/// format of `EntryCodec` (so a read is one round trip and the checksum travels with the bytes).
///
/// Keys are `reanchor:e<format version>:<namespace digest>:<content key>`: the format version keeps
/// builds that read different formats apart, the namespace digest keeps tenants apart (and lets an
/// operator list or clear one tenant), the content key already covers model, tokenizer and tokens.
///
/// Nothing the server does can fail a lookup or a store: down, slow (command timeout), restarted or full
/// (an OOM refusal) is counted in `statistics.faults` (`storeFailures` for stores) and recorded as a
/// `LibraryEvent` once per change of state, and the library goes on with its local tiers; the client
/// reconnects with backoff when the server returns. A value that is not a valid entry for this model
/// (corrupt, truncated by a killed writer, forged, oversized, another geometry) is never served: it is
/// deleted, counted as `corrupt` and recorded. An entry evicted by the server's `maxmemory` policy or
/// expired by its TTL is a plain miss.
public actor RemoteTier: ChunkTier {
    public nonisolated let client: RedisClient
    public nonisolated let geometry: ModelGeometry?
    public nonisolated let limits: EntryLimits
    /// Time to live of stored entries; nil keeps them until evicted or deleted.
    public nonisolated let timeToLive: Duration?
    private var counters = TierStatistics()
    private var log = EventLog()
    private var available = true

    /// - client: a client for the shared server. Its `maximumBulkBytes` should not exceed
    ///   `limits.maximumEntryBytes` (`RemoteTier.clientOptions` makes such options).
    public init(client: RedisClient, geometry: ModelGeometry?, limits: EntryLimits = .standard, timeToLive: Duration? = nil) {
        self.client = client
        self.geometry = geometry
        self.limits = limits
        self.timeToLive = timeToLive
    }

    /// Connects (lazily, on first use) to `url` with options suited to entries: replies capped at the
    /// largest entry `limits` allow.
    public init(url: RedisURL, geometry: ModelGeometry?, limits: EntryLimits = .standard, timeToLive: Duration? = nil,
                options: RedisClientOptions = RedisClientOptions()) {
        self.init(client: RedisClient(url: url, options: Self.clientOptions(options, limits: limits)), geometry: geometry,
                  limits: limits, timeToLive: timeToLive)
    }

    /// `options` with replies capped at the largest entry `limits` allow (plus headroom for the protocol).
    public static func clientOptions(_ options: RedisClientOptions, limits: EntryLimits) -> RedisClientOptions {
        var options = options
        options.limits.maximumBulkBytes = min(options.limits.maximumBulkBytes, limits.maximumEntryBytes)
        options.limits.maximumReplyBytes = min(options.limits.maximumReplyBytes, limits.maximumEntryBytes + (64 << 10))
        return options
    }

    /// The prefix of every key this build writes.
    public static let keyPrefix = "reanchor:e\(EntryCodec.version):"

    /// The remote key of an entry.
    public static func remoteKey(_ key: ChunkKey) -> String { keyPrefix + key.namespaceDigest + ":" + key.hex }

    /// The glob matching every entry of `namespace` (all namespaces when nil).
    public static func pattern(namespace: Namespace?) -> String { keyPrefix + (namespace.map { $0.digest + ":" } ?? "") + "*" }

    public func entry(for key: ChunkKey) async -> ChunkEntry? {
        let remoteKey = Self.remoteKey(key)
        let buffer: ByteBuffer?
        do {
            buffer = try await client.get(remoteKey)
            noteAvailable()
        } catch RESPError.replyTooLarge(let bytes, let limit) {
            await discard(remoteKey, reason: "the value has \(bytes) bytes, above the maximum entry size \(limit)")
            counters.misses += 1
            return nil
        } catch {
            fault(error)
            counters.misses += 1
            return nil
        }
        guard let buffer else {
            counters.misses += 1
            return nil
        }
        do {
            let entry = try EntryCodec.decode(Data(buffer.readableBytesView), limits: limits, model: geometry)
            guard entry.key == key else {
                throw DocumentsError.invalidEntry(reason: "the value holds the entry \(entry.key.hex), not the one its key says")
            }
            counters.hits += 1
            return entry
        } catch {
            var reason = "\(error)"
            if case .invalidEntry(let why)? = error as? DocumentsError { reason = why }
            await discard(remoteKey, reason: reason)
            counters.misses += 1
            return nil
        }
    }

    /// Writes `entry` with one atomic `SET` (a reader sees the whole value or none), with the TTL if any.
    /// A fault of the server is counted and recorded, never thrown.
    /// - Throws: `DocumentsError.geometryMismatch` for an entry this tier would not serve (a caller's bug).
    public func store(_ entry: ChunkEntry) async throws {
        if let violation = entry.violation(limits: limits, model: geometry) { throw DocumentsError.geometryMismatch(violation) }
        let data = try EntryCodec.encode(entry)
        do {
            try await client.set(Self.remoteKey(entry.key), ByteBuffer(bytes: data), expiry: timeToLive)
            noteAvailable()
            counters.entries += 1
            counters.bytes += data.count
        } catch {
            counters.storeFailures += 1
            if case .server(let message)? = error as? RESPError {
                // Refused (out of memory under `noeviction`, read-only replica): the server is up.
                log.record(LibraryEvent(kind: .storeFailed, path: Self.remoteKey(entry.key), reason: message))
            } else {
                fault(error)
            }
        }
    }

    public func remove(_ key: ChunkKey) async {
        do {
            try await client.delete([Self.remoteKey(key)])
        } catch {
            fault(error)
        }
    }

    /// This replica's view: hits, misses, faults, corrupt values, and the entries and bytes it stored.
    /// The server's whole content is `census(namespace:)`.
    public var statistics: TierStatistics { counters }

    /// The events recorded since the last call (discarded values, refused stores, state changes).
    public func takeEvents() -> [LibraryEvent] { log.take() }

    /// Entries on the server for `namespace` (all when nil) and their bytes, counted by `SCAN` and `STRLEN`.
    /// - Throws: `RESPError` when the server cannot be asked.
    public func census(namespace: Namespace?) async throws -> (entries: Int, bytes: Int) {
        let keys = try await client.keys(matching: Self.pattern(namespace: namespace))
        var bytes = 0
        for batch in stride(from: 0, to: keys.count, by: 512) {
            bytes += try await client.lengths(Array(keys[batch..<min(batch + 512, keys.count)])).reduce(0, +)
        }
        return (keys.count, bytes)
    }

    /// Deletes the value at `remoteKey` and records why it was not served.
    private func discard(_ remoteKey: String, reason: String) async {
        counters.corrupt += 1
        var reason = reason
        do {
            try await client.delete([remoteKey])
        } catch {
            reason += "; not deleted: \(error)"
        }
        log.record(LibraryEvent(kind: .discarded, path: remoteKey, reason: reason))
    }

    private func fault(_ error: Error) {
        counters.faults += 1
        guard available else { return }
        available = false
        log.record(LibraryEvent(kind: .remoteUnavailable, path: client.url.description, reason: "\(error)"))
    }

    private func noteAvailable() {
        guard !available else { return }
        available = true
        log.record(LibraryEvent(kind: .remoteRestored, path: client.url.description, reason: "answers again"))
    }
}
