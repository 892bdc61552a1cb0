import Testing
import Kernels
@testable import Cache

@Suite struct KVCacheTests {
    func makeCache(capacity: Int = 8) -> KVCache {
        KVCache(geometry: CacheGeometry(layers: 1, kvHeads: 1, headDimension: 4, capacity: capacity),
                rotary: RotaryEmbedding(headDimension: 4, theta: 10_000))
    }

    @Test func reserveRemoveCompactKeepsMetadataApartFromStorage() throws {
        let cache = makeCache()
        let first = try cache.reserve(sequence: 0, positions: [0, 1, 2])
        let second = try cache.reserve(sequence: 1, positions: [0, 1])
        #expect(first == [0, 1, 2] && second == [3, 4])
        #expect(cache.count(sequence: 0) == 3 && cache.count(sequence: 1) == 2)
        cache.remove(sequence: 0, range: 1..<2)
        #expect(cache.count(sequence: 0) == 2)
        #expect(cache.maxPosition(sequence: 0) == 2)
        cache.compact()
        #expect(cache.used == 4)
        #expect(cache.cells.positions == [0, 2, 0, 1])
        #expect(cache.cells.sequences == [0, 0, 1, 1])
        cache.remove(sequence: 1)
        #expect(cache.used == 2)
    }

    @Test func fullCacheThrowsAndChangesNothing() throws {
        let cache = makeCache(capacity: 4)
        _ = try cache.reserve(sequence: 0, positions: [0, 1, 2])
        #expect(throws: CacheError.full(requested: 2, capacity: 4, used: 3)) { try cache.reserve(sequence: 0, positions: [3, 4]) }
        #expect(throws: CacheError.invalidSequence(-1)) { try cache.reserve(sequence: -1, positions: [3]) }
        #expect(cache.used == 3)
        // Freed cells are reclaimed by compaction when the tail is full.
        cache.remove(sequence: 0, range: 0..<2)
        #expect(try cache.reserve(sequence: 0, positions: [3, 4, 5]) == [1, 2, 3])
    }
}
