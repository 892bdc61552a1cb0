import Cache
import Foundation

/// The content-addressed document KV library: a memory tier in front of an optional disk tier.
/// Lookups search the request's namespace, then public; entries found on disk are promoted to memory.
public actor DocumentLibrary {
    public nonisolated let fingerprint: Fingerprint
    public nonisolated let memory: MemoryTier
    public nonisolated let disk: DiskTier?
    private var lookups = 0
    private var hits = 0

    public init(fingerprint: Fingerprint, memoryBudget: Int = 512 << 20, directory: URL? = nil) throws {
        self.fingerprint = fingerprint
        memory = MemoryTier(budget: memoryBudget)
        disk = try directory.map { try DiskTier(directory: $0) }
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
        }
        return nil
    }

    /// Stores a chunk's K/V under `namespace`. A disk failure is thrown after the memory tier has the entry.
    @discardableResult
    public func store(tokens: [Int], context: [Int] = [], slice: CacheSlice, namespace: Namespace) async throws -> ChunkEntry {
        let entry = ChunkEntry(namespace: namespace, fingerprint: fingerprint, context: context, tokens: tokens, slice: slice)
        await memory.store(entry)
        try await disk?.store(entry)
        return entry
    }

    public struct Statistics: Sendable, Codable {
        public var lookups: Int
        public var hits: Int
        public var memory: TierStatistics
        public var disk: TierStatistics?
    }

    public var statistics: Statistics {
        get async {
            Statistics(lookups: lookups, hits: hits, memory: await memory.statistics, disk: await disk?.statistics)
        }
    }
}
