import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Entries as files in a directory, one per entry (`<key>.kv`, format in `EntryCodec`). Writes are atomic
/// (temporary file, fsync, rename). Reads check sizes before reading (`EntryFile`), then the checksum, the
/// key and the model's geometry; a file that fails is removed, recorded as a `LibraryEvent` with the reason,
/// and reported as a miss. Survives restarts: the directory is the state.
public actor DiskTier: ChunkTier {
    public nonisolated let directory: URL
    /// The model geometry every entry must have; nil checks entries only against `limits`.
    public nonisolated let geometry: ModelGeometry?
    public nonisolated let limits: EntryLimits
    private var counters = TierStatistics()
    private var log = EventLog()

    /// Opens (creating if needed) `directory` and removes temporary files older than `staleTemporaryAge`
    /// seconds (left by a killed writer; younger ones may be another process's write in progress).
    /// - Throws: `DocumentsError.invalidDirectory` naming the path and the reason (a component is a file,
    ///   cannot be created), `unwritable` when it cannot be written.
    public init(directory: URL, geometry: ModelGeometry?, limits: EntryLimits = .standard,
                staleTemporaryAge: TimeInterval = 3600) throws {
        try LibraryDirectory.prepare(directory)
        self.directory = directory
        self.geometry = geometry
        self.limits = limits
        for event in LibraryDirectory.removeStaleTemporaries(in: directory, olderThan: staleTemporaryAge) { log.record(event) }
        counters = Self.scan(directory)
    }

    /// Opens the directory at `path` as a person gave it (e.g. `--library`).
    /// - Throws: `DocumentsError.invalidDirectory` for an empty path (it would mean the current directory).
    public init(path: String, geometry: ModelGeometry?, limits: EntryLimits = .standard, staleTemporaryAge: TimeInterval = 3600) throws {
        try self.init(directory: LibraryDirectory.url(path: path), geometry: geometry, limits: limits,
                      staleTemporaryAge: staleTemporaryAge)
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

    nonisolated func path(for key: ChunkKey) -> URL { directory.appendingPathComponent(key.hex + ".kv") }

    public func entry(for key: ChunkKey) -> ChunkEntry? {
        let url = path(for: key)
        do {
            guard let entry = try EntryFile.read(url, limits: limits, model: geometry) else {
                counters.misses += 1
                return nil
            }
            guard entry.key == key else {
                throw DocumentsError.invalidEntry(reason: "the file holds the entry \(entry.key.hex), not the one its name says")
            }
            counters.hits += 1
            return entry
        } catch {
            // Never served: removed, recorded, and reported as a miss so the chunk is recomputed.
            discard(url, reason: Self.reason(error))
            counters.misses += 1
            return nil
        }
    }

    /// Writes `entry` atomically, replacing an entry of the same key.
    /// - Throws: `DocumentsError.geometryMismatch` for an entry this tier would not serve; `unwritable`
    ///   (also recorded as a `storeFailed` event) when the file cannot be written.
    public func store(_ entry: ChunkEntry) throws {
        if let violation = entry.violation(limits: limits, model: geometry) { throw DocumentsError.geometryMismatch(violation) }
        let target = path(for: entry.key)
        do {
            let data = try EntryCodec.encode(entry)
            let previous = Self.fileSize(target)
            try Self.writeAtomically(data, to: target, in: directory, name: entry.key.hex)
            if previous == nil { counters.entries += 1 }
            counters.bytes = max(counters.bytes - (previous ?? 0), 0) + data.count
        } catch {
            let failure: DocumentsError
            if case .unwritable? = error as? DocumentsError, let error = error as? DocumentsError {
                failure = error
            } else {
                failure = .unwritable(path: target.path, reason: Self.reason(error))
            }
            counters.storeFailures += 1
            if case .unwritable(_, let reason) = failure {
                log.record(LibraryEvent(kind: .storeFailed, path: target.path, reason: reason))
            }
            throw failure
        }
    }

    public func remove(_ key: ChunkKey) {
        let url = path(for: key)
        let size = Self.fileSize(url)
        if unlink(url.path) == 0 { forget(bytes: size ?? 0) }
    }

    public var statistics: TierStatistics { counters }

    /// The events recorded since the last call (discards, failed stores, removed temporaries), oldest first.
    public func takeEvents() -> [LibraryEvent] { log.take() }

    /// Removes the bad file at `url` and records why. A directory under an entry's name is left alone.
    private func discard(_ url: URL, reason: String) {
        let size = Self.fileSize(url)
        var reason = reason
        if unlink(url.path) == 0 {
            forget(bytes: size ?? 0)
        } else if errno != ENOENT {
            reason += "; not removed: \(String(cString: strerror(errno)))"
        }
        counters.corrupt += 1
        log.record(LibraryEvent(kind: .discarded, path: url.path, reason: reason))
    }

    private func forget(bytes: Int) {
        counters.entries = max(counters.entries - 1, 0)
        counters.bytes = max(counters.bytes - bytes, 0)
    }

    private static func reason(_ error: Error) -> String {
        if case .invalidEntry(let reason)? = error as? DocumentsError { return reason }
        return systemReason(error)
    }

    private static func fileSize(_ url: URL) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? nil
    }

    /// Writes `data` to a temporary file beside `target`, syncs it and renames it over `target`, so readers
    /// see the old file or the whole new one, never a part.
    private static func writeAtomically(_ data: Data, to target: URL, in directory: URL, name: String) throws {
        let temporary = directory.appendingPathComponent(".\(name).\(UUID().uuidString).tmp")
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw DocumentsError.unwritable(path: target.path, reason: "cannot create a temporary file: \(String(cString: strerror(errno)))")
        }
        var failure: String? = nil
        data.withUnsafeBytes { raw in
            // Do not escape the pointer. An empty buffer has no base address and nothing to write.
            guard let base = raw.baseAddress else { return }
            var written = 0
            while written < raw.count {
                let result = write(descriptor, base + written, raw.count - written)
                if result < 0, errno == EINTR { continue }
                if result <= 0 {
                    failure = result == 0 ? "wrote nothing" : String(cString: strerror(errno))
                    return
                }
                written += result
            }
        }
        if failure == nil, fsync(descriptor) != 0 { failure = String(cString: strerror(errno)) }
        close(descriptor)
        if failure == nil, rename(temporary.path, target.path) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temporary.path)
            throw DocumentsError.unwritable(path: target.path, reason: failure)
        }
    }
}
