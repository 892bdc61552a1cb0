/// One storage tier of the document library (memory, disk, remote). Small on purpose: the library composes tiers.
public protocol ChunkTier: Actor {
    /// The entry at `key`, or nil (a corrupt stored entry is discarded, counted, recorded and reported as nil).
    func entry(for key: ChunkKey) async -> ChunkEntry?
    /// Stores `entry`, evicting as the tier's budget requires.
    func store(_ entry: ChunkEntry) async throws
    func remove(_ key: ChunkKey) async
    var statistics: TierStatistics { get async }
}

/// What a tier holds and has done: observable eviction and sizes.
public struct TierStatistics: Sendable, Equatable, Codable {
    public var entries = 0
    public var bytes = 0
    public var hits = 0
    public var misses = 0
    public var evictions = 0
    /// Stored entries found corrupt, truncated, oversized or made for another model, and discarded (never
    /// served). Each has a `LibraryEvent` saying which file and why.
    public var corrupt = 0
    /// Stores that did not reach this tier (disk full, read-only, vanished directory).
    public var storeFailures = 0
    /// Operations that met a fault of the tier's service (remote tier: Redis down, slow, full) and went on
    /// without it.
    public var faults = 0
    public init() {}
}
