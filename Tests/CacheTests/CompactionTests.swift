import Testing
import Kernels
@testable import Cache

/// Compaction moves runs of live cells down at once: every sequence keeps its positions, keys and values.
@Suite struct CompactionTests {
    @Test(arguments: [KeyStorage.anchored, .post, .pre])
    func compactionKeepsEveryCellsKV(storage: KeyStorage) throws {
        let geometry = CacheGeometry(layers: 2, kvHeads: 2, headDimension: 4, capacity: 64)
        let cache = KVCache(geometry: geometry, rotary: RotaryEmbedding(headDimension: 4, theta: 10_000), storage: storage)
        // Three sequences imported in interleaved pieces, so that their cells alternate in runs of 3-5.
        var value: Float = 0
        func piece(_ count: Int) -> CacheSlice {
            func tensor(_ width: Int) -> [[Float]] {
                (0..<geometry.layers).map { _ in (0..<(count * width)).map { _ in value += 0.25; return (value * 7).truncatingRemainder(dividingBy: 3) - 1 } }
            }
            return CacheSlice(geometry: geometry.with(capacity: count), relativePositions: Array(0..<count),
                              keys: tensor(geometry.keyWidth), values: tensor(geometry.valueWidth))
        }
        var next = [0, 0, 0]
        for round in 0..<4 {
            for sequence in 0..<3 {
                let count = 3 + (round + sequence) % 3
                _ = try cache.importSlice(piece(count), sequence: sequence, at: next[sequence])
                next[sequence] += count
            }
        }
        cache.remove(sequence: 1)
        cache.remove(sequence: 2, range: 2..<6)
        func snapshot() throws -> [[Float]] {
            try (0..<geometry.layers).flatMap { layer in
                try [0, 2].flatMap { sequence in
                    let positions = cache.positions(of: sequence)
                    return [try cache.keys(layer: layer, sequence: sequence, positions: positions),
                            try cache.values(layer: layer, sequence: sequence, positions: positions)]
                }
            }
        }
        let positions = [cache.positions(of: 0), cache.positions(of: 2)]
        let before = try snapshot()
        let occupied = cache.occupied
        cache.compact()
        #expect(cache.occupied == occupied)
        #expect([cache.positions(of: 0), cache.positions(of: 2)] == positions)
        #expect(try snapshot() == before)
        // Room at the tail again: a new sequence lands right after the live cells.
        #expect(try cache.reserve(sequence: 5, positions: [0]) == [occupied])
    }
}
