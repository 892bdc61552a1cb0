/// Entries in memory within a byte budget, least recently used evicted first.
public actor MemoryTier: ChunkTier {
    public let budget: Int
    private var entries: [ChunkKey: ChunkEntry] = [:]
    /// Keys from least to most recently used.
    private var order: [ChunkKey] = []
    private var counters = TierStatistics()

    /// - budget: bytes of K/V kept at most.
    public init(budget: Int) { self.budget = budget }

    public func entry(for key: ChunkKey) -> ChunkEntry? {
        guard let entry = entries[key] else {
            counters.misses += 1
            return nil
        }
        counters.hits += 1
        touch(key)
        return entry
    }

    public func store(_ entry: ChunkEntry) {
        guard entry.byteCount <= budget else { return }  // larger than the whole tier: keep it on disk only
        if entries[entry.key] != nil { remove(entry.key) }
        entries[entry.key] = entry
        order.append(entry.key)
        counters.bytes += entry.byteCount
        while counters.bytes > budget, let oldest = order.first {
            remove(oldest)
            counters.evictions += 1
        }
        counters.entries = entries.count
    }

    public func remove(_ key: ChunkKey) {
        guard let entry = entries.removeValue(forKey: key) else { return }
        counters.bytes -= entry.byteCount
        order.removeAll { $0 == key }
        counters.entries = entries.count
    }

    public var statistics: TierStatistics { counters }

    private func touch(_ key: ChunkKey) {
        order.removeAll { $0 == key }
        order.append(key)
    }
}
