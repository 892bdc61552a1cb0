import Foundation
import NIOCore
import RESP

/// One stored entry as an operator sees it (`reanchor library list`): where, whose, how big, how old.
public struct EntrySummary: Sendable, Codable, Equatable {
    /// `disk` or `remote`.
    public var tier: String
    /// File path or remote key.
    public var location: String
    public var key: String
    public var namespace: String
    public var tokens: Int
    public var bytes: Int
    /// Seconds since 1970.
    public var created: Double
    /// How the entry stores its K/V (`f32` for a version 1 entry).
    public var kv: KVFormat
}

/// What an operator command found: summaries of valid entries, and the locations of invalid ones with why.
public struct InspectionResult: Sendable, Codable {
    public var entries: [EntrySummary] = []
    /// `location: reason` of each entry found invalid (removed when the command verifies).
    public var corrupt: [String] = []
}

/// The operator's view of a library: read without a model (entries are checked against `EntryLimits`
/// only), for `reanchor library stats|list|verify|evict|clear`.
public enum LibraryInspection {
    /// The entries of the disk directory at `path` visible to `namespace` (all when nil).
    /// - verify: read every byte and check the checksum and the key, removing what fails; otherwise read
    ///   only each file's prelude and header.
    public static func disk(path: String, namespace: Namespace?, verify: Bool, limits: EntryLimits = .standard) throws -> InspectionResult {
        let directory = try LibraryDirectory.url(path: path)
        var result = InspectionResult()
        let files = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: [.fileSizeKey])) ?? []
        for file in files.sorted(by: { $0.lastPathComponent < $1.lastPathComponent }) where file.pathExtension == "kv" {
            do {
                let (header, size) = try verify ? full(file, limits: limits) : headerOnly(file, limits: limits)
                guard header.key + ".kv" == file.lastPathComponent else {
                    throw DocumentsError.invalidEntry(reason: "the file holds the entry \(header.key), not the one its name says")
                }
                if let namespace, header.namespace != namespace.description { continue }
                result.entries.append(EntrySummary(tier: "disk", location: file.path, key: header.key, namespace: header.namespace,
                                                   tokens: header.tokens.count, bytes: size, created: header.created,
                                                   kv: header.format))
            } catch {
                var reason = "\(error)"
                if case .invalidEntry(let why)? = error as? DocumentsError { reason = why }
                result.corrupt.append("\(file.path): \(reason)")
                if verify { unlink(file.path) }
            }
        }
        return result
    }

    /// The entries of the remote tier visible to `namespace` (all when nil): sizes by `STRLEN`, headers by
    /// `GETRANGE` of the prelude and header. `verify` fetches every value whole, decodes it and deletes
    /// what fails.
    public static func remote(_ client: RedisClient, namespace: Namespace?, verify: Bool, limits: EntryLimits = .standard) async throws -> InspectionResult {
        var result = InspectionResult()
        let keys = try await client.keys(matching: RemoteTier.pattern(namespace: namespace)).sorted()
        for key in keys {
            do {
                guard let value = try await fetch(client, key: key, verify: verify, limits: limits) else { continue }  // gone meanwhile
                let (header, size) = value
                guard RemoteTier.keyPrefix + (try Namespace.parse(header.namespace)).digest + ":" + header.key == key else {
                    throw DocumentsError.invalidEntry(reason: "the value holds the entry \(header.key), not the one its key says")
                }
                result.entries.append(EntrySummary(tier: "remote", location: key, key: header.key, namespace: header.namespace,
                                                   tokens: header.tokens.count, bytes: size, created: header.created,
                                                   kv: header.format))
            } catch let error as RESPError {
                if case .replyTooLarge = error {
                    result.corrupt.append("\(key): \(error)")
                    if verify { try await client.delete([key]) }
                    continue
                }
                throw error
            } catch {
                var reason = "\(error)"
                if case .invalidEntry(let why)? = error as? DocumentsError { reason = why }
                result.corrupt.append("\(key): \(reason)")
                if verify { try await client.delete([key]) }
            }
        }
        return result
    }

    /// Removes the oldest disk entries until the directory holds at most `maximumBytes` of entries.
    /// - Returns: the entries removed.
    public static func evict(path: String, maximumBytes: Int, limits: EntryLimits = .standard) throws -> [EntrySummary] {
        let found = try disk(path: path, namespace: nil, verify: false, limits: limits)
        var total = found.entries.reduce(0) { $0 + $1.bytes }
        var removed: [EntrySummary] = []
        for entry in found.entries.sorted(by: { $0.created < $1.created }) where total > maximumBytes {
            if unlink(entry.location) == 0 {
                total -= entry.bytes
                removed.append(entry)
            }
        }
        return removed
    }

    /// Deletes the remote entries of `namespace` (all of this format when nil). - Returns: how many.
    public static func clearRemote(_ client: RedisClient, namespace: Namespace?) async throws -> Int {
        let keys = try await client.keys(matching: RemoteTier.pattern(namespace: namespace))
        var deleted = 0
        for batch in stride(from: 0, to: keys.count, by: 512) {
            deleted += try await client.delete(Array(keys[batch..<min(batch + 512, keys.count)]))
        }
        return deleted
    }

    private static func full(_ file: URL, limits: EntryLimits) throws -> (EntryHeader, Int) {
        guard let entry = try EntryFile.read(file, limits: limits, model: nil) else {
            throw DocumentsError.invalidEntry(reason: "vanished while being read")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
        return (EntryCodec.header(of: entry), size)
    }

    private static func headerOnly(_ file: URL, limits: EntryLimits) throws -> (EntryHeader, Int) {
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        let size = Int(try handle.seekToEnd())
        try handle.seek(toOffset: 0)
        let prelude = try handle.read(upToCount: EntryCodec.preludeBytes) ?? Data()
        let length = try EntryCodec.headerLength(prelude: prelude, fileBytes: size, limits: limits)
        let bytes = try handle.read(upToCount: length) ?? Data()
        let (header, payload) = try EntryCodec.header(bytes, version: EntryCodec.version(prelude), limits: limits, model: nil)
        guard EntryCodec.fileBytes(headerLength: length, payloadBytes: payload) == size else {
            throw DocumentsError.invalidEntry(reason: "size mismatch: the file has \(size) bytes, its header implies another size")
        }
        return (header, size)
    }

    /// The header and size of the value at `key`, or nil when the key is gone.
    private static func fetch(_ client: RedisClient, key: String, verify: Bool, limits: EntryLimits) async throws -> (EntryHeader, Int)? {
        if verify {
            guard let value = try await client.get(key) else { return nil }
            let entry = try value.withUnsafeReadableBytes { try EntryCodec.decode(bytes: $0, limits: limits, model: nil) }
            return (EntryCodec.header(of: entry), value.readableBytes)
        }
        let replies = try await client.pipeline([RESPCommand("STRLEN", key),
                                                 RESPCommand("GETRANGE", key, "0", String(EntryCodec.preludeBytes - 1))])
        guard case .integer(let size64) = replies[0], let size = Int(exactly: size64), size > 0,
              case .bulk(let prelude) = replies[1] else { return nil }
        let preludeData = Data(prelude.readableBytesView)
        let length = try EntryCodec.headerLength(prelude: preludeData, fileBytes: size, limits: limits)
        // safe: headerLength checked length against the value's size and the limits, so the sum cannot overflow.
        let reply = try await client.send(RESPCommand("GETRANGE", key, String(EntryCodec.preludeBytes),
                                                      String(EntryCodec.preludeBytes + length - 1)))  // safe: length checked by headerLength
        guard case .bulk(let bytes) = reply, bytes.readableBytes == length else {
            throw DocumentsError.invalidEntry(reason: "the header is shorter than its stated \(length) bytes")
        }
        let (header, payload) = try EntryCodec.header(Data(bytes.readableBytesView), version: EntryCodec.version(preludeData), limits: limits, model: nil)
        guard EntryCodec.fileBytes(headerLength: length, payloadBytes: payload) == size else {
            throw DocumentsError.invalidEntry(reason: "size mismatch: the value has \(size) bytes, its header implies another size")
        }
        return (header, size)
    }
}
