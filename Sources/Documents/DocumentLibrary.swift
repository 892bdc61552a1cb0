import Cache
import Foundation

/// The content-addressed document KV library of one model: a memory tier in front of an optional disk tier
/// and an optional remote tier (Redis shared by every replica). Lookups search the request's namespace,
/// then public, each through memory, disk, remote; an entry found on disk is promoted to memory, one found
/// remotely (verified like a file: checksum, key, geometry) is copied to memory and disk.
///
/// The library knows its model's `geometry`: it stores only chunks of that geometry whose positions and
/// sizes are those of a chunk (`EntryRules`), and an entry on disk that does not match is a miss, removed
/// and recorded. Nothing a stored file says can make a lookup fail or trap; what went wrong is told by
/// `takeEvents()` and counted in `statistics`.
public actor DocumentLibrary {
    public nonisolated let fingerprint: Fingerprint
    /// The model's K/V geometry; nil only for a library opened with the deprecated initializer.
    public nonisolated let geometry: ModelGeometry?
    public nonisolated let limits: EntryLimits
    public nonisolated let memory: MemoryTier
    public nonisolated let disk: DiskTier?
    public nonisolated let remote: RemoteTier?
    private var lookups = 0
    private var hits = 0

    /// - geometry: the K/V shape of the fingerprinted model (`ModelGeometry(model.cacheGeometry(capacity: 1))`).
    /// - memoryBudget: bytes of K/V kept in memory at most.
    /// - directory: the disk tier's directory, or nil for a memory-only library.
    /// - remote: the shared tier, or nil.
    /// - Throws: `DocumentsError.invalidDirectory` / `unwritable` naming the directory and the reason.
    public init(fingerprint: Fingerprint, geometry: ModelGeometry, memoryBudget: Int = 512 << 20, directory: URL? = nil,
                remote: RemoteTier? = nil, limits: EntryLimits = .standard) throws {
        try self.init(fingerprint: fingerprint, expected: geometry, memoryBudget: memoryBudget,
                      disk: directory.map { try DiskTier(directory: $0, geometry: geometry, limits: limits) }, remote: remote,
                      limits: limits)
    }

    /// As `init(fingerprint:geometry:memoryBudget:directory:limits:)`, with the directory as a person typed
    /// it (`--library`): an empty path is an error rather than the current directory.
    public init(fingerprint: Fingerprint, geometry: ModelGeometry, memoryBudget: Int = 512 << 20, path: String?,
                remote: RemoteTier? = nil, limits: EntryLimits = .standard) throws {
        try self.init(fingerprint: fingerprint, expected: geometry, memoryBudget: memoryBudget,
                      disk: path.map { try DiskTier(path: $0, geometry: geometry, limits: limits) }, remote: remote, limits: limits)
    }

    private init(fingerprint: Fingerprint, expected: ModelGeometry?, memoryBudget: Int, disk: DiskTier?, remote: RemoteTier?,
                 limits: EntryLimits) throws {
        self.fingerprint = fingerprint
        self.geometry = expected
        self.limits = limits
        memory = MemoryTier(budget: memoryBudget)
        self.disk = disk
        self.remote = remote
    }

    /// The entry for `tokens` encoded after `context`, visible from `namespace`, or nil.
    public func lookup(tokens: [Int], context: [Int] = [], namespace: Namespace) async -> ChunkEntry? {
        lookups += 1
        for candidate in namespace.searchOrder {
            let key = ChunkKey(fingerprint: fingerprint, namespace: candidate, context: context, tokens: tokens)
            if let entry = await memory.entry(for: key) {
                hits += 1
                return entry
            }
            if let disk, let entry = await disk.entry(for: key) {
                await memory.store(entry)
                hits += 1
                return entry
            }
            if let remote, let entry = await remote.entry(for: key) {
                await memory.store(entry)
                if let disk { try? await disk.store(entry) }  // a failure is recorded by the disk tier
                hits += 1
                return entry
            }
        }
        return nil
    }

    /// Stores a chunk's K/V under `namespace` in memory and, when there are, on disk and remotely. A failed
    /// disk or remote store does not throw: the memory tier serves the entry, and the failure is recorded as a
    /// `storeFailed` event (`takeEvents()`) and counted in `statistics.disk.storeFailures`.
    /// - Throws: `DocumentsError.geometryMismatch` when the chunk does not fit the model (geometry, token
    ///   count, positions other than `0..<count`, tensor sizes, non-finite values): a caller's bug.
    @discardableResult
    public func store(tokens: [Int], context: [Int] = [], slice: CacheSlice, namespace: Namespace) async throws -> ChunkEntry {
        let entry = ChunkEntry(namespace: namespace, fingerprint: fingerprint, context: context, tokens: tokens, slice: slice)
        if let violation = entry.violation(limits: limits, model: geometry) { throw DocumentsError.geometryMismatch(violation) }
        await memory.store(entry)
        if let disk {
            do {
                try await disk.store(entry)
            } catch {
                // Recorded by the disk tier as a `storeFailed` event; the entry stays served from memory.
            }
        }
        if let remote { try? await remote.store(entry) }  // faults are counted and recorded by the remote tier
        return entry
    }

    /// What the library discarded, failed to store or cleaned since the last call, oldest first, for the
    /// caller to print or log (each says which file and why).
    public func takeEvents() async -> [LibraryEvent] {
        let local = await disk?.takeEvents() ?? []
        return local + (await remote?.takeEvents() ?? [])
    }

    public struct Statistics: Sendable, Codable {
        public var lookups: Int
        public var hits: Int
        public var memory: TierStatistics
        public var disk: TierStatistics?
        public var remote: TierStatistics?
    }

    public var statistics: Statistics {
        get async {
            Statistics(lookups: lookups, hits: hits, memory: await memory.statistics, disk: await disk?.statistics,
                       remote: await remote?.statistics)
        }
    }
}
