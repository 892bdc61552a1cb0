import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Entries as files in a directory, one per entry (`<key>.kv`, format in `EntryCodec`). Writes are atomic
/// (temporary file, fsync, rename); reads verify the checksum and discard a corrupt file. Survives restarts:
/// the directory is the state.
public actor DiskTier: ChunkTier {
    public let directory: URL
    private var counters = TierStatistics()

    /// Opens (creating if needed) `directory`; throws when it cannot be created or written.
    public init(directory: URL) throws {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw DocumentsError.unwritable(path: directory.path, reason: error.localizedDescription)
        }
        guard FileManager.default.isWritableFile(atPath: directory.path) else {
            throw DocumentsError.unwritable(path: directory.path, reason: "permission denied")
        }
        counters = Self.scan(directory)
    }

    private static func scan(_ directory: URL) -> TierStatistics {
        var statistics = TierStatistics()
        let files = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: [.fileSizeKey])) ?? []
        for file in files where file.pathExtension == "kv" {
            statistics.entries += 1
            statistics.bytes += (try? file.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0
        }
        return statistics
    }

    func path(for key: ChunkKey) -> URL { directory.appendingPathComponent(key.hex + ".kv") }

    public func entry(for key: ChunkKey) -> ChunkEntry? {
        let url = path(for: key)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            counters.misses += 1
            return nil
        }
        do {
            let entry = try EntryCodec.decode(data)
            guard entry.key == key else { throw EntryCodec.Rejected(reason: "file holds another key") }
            counters.hits += 1
            return entry
        } catch {
            // Never served: removed, counted, and reported as a miss so the chunk is recomputed.
            try? FileManager.default.removeItem(at: url)
            counters.corrupt += 1
            counters.misses += 1
            counters.entries = max(counters.entries - 1, 0)
            counters.bytes = max(counters.bytes - data.count, 0)
            return nil
        }
    }

    public func store(_ entry: ChunkEntry) throws {
        let data = try EntryCodec.encode(entry)
        let target = path(for: entry.key)
        let temporary = directory.appendingPathComponent(".\(entry.key.hex).\(UUID().uuidString).tmp")
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard descriptor >= 0 else {
            throw DocumentsError.unwritable(path: directory.path, reason: String(cString: strerror(errno)))
        }
        var failure: String? = nil
        data.withUnsafeBytes { raw in
            var written = 0
            while written < raw.count {
                // safe: raw.count > 0 (an encoded entry has at least the magic and checksum), so baseAddress exists.
                let result = write(descriptor, raw.baseAddress! + written, raw.count - written)
                if result <= 0 { failure = String(cString: strerror(errno)); return }
                written += result
            }
        }
        if failure == nil, fsync(descriptor) != 0 { failure = String(cString: strerror(errno)) }
        close(descriptor)
        if failure == nil, rename(temporary.path, target.path) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temporary.path)
            throw DocumentsError.unwritable(path: directory.path, reason: failure)
        }
        counters = Self.scan(directory).merging(counters)
    }

    public func remove(_ key: ChunkKey) {
        try? FileManager.default.removeItem(at: path(for: key))
        counters = Self.scan(directory).merging(counters)
    }

    public var statistics: TierStatistics { counters }
}

extension TierStatistics {
    /// Sizes from `self` (a fresh scan), counters from `previous`.
    func merging(_ previous: TierStatistics) -> TierStatistics {
        var result = previous
        result.entries = entries
        result.bytes = bytes
        return result
    }
}
