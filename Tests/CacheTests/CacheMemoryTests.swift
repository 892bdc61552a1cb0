import Testing
import Kernels
import TestSupport
@testable import Cache

/// Memory follows use: a cache for a huge window allocates for the tokens it holds, grows in blocks and
/// gives memory back when cells are removed, in every key-storage mode.
@Suite struct CacheMemoryTests {
    static let geometry = CacheGeometry(layers: 2, kvHeads: 2, headDimension: 8, capacity: 1_000_000)
    let rotary = RotaryEmbedding(headDimension: 8, theta: 10_000)

    /// Bytes one block of cells costs in `storage`.
    func blockBytes(_ storage: KeyStorage) -> Int {
        let tensors = storage == .anchored ? 3 : 2
        let tables = storage == .pre ? 2 * Self.geometry.headDimension / 2 : 0
        return KVStorage.blockCells * (tensors * Self.geometry.layers * Self.geometry.keyWidth + tables) * 4
    }

    @Test(arguments: KeyStorage.allCases)
    func memoryGrowsWithTokensAndIsReleasedOnRemove(storage: KeyStorage) throws {
        let cache = KVCache(geometry: Self.geometry, rotary: rotary, storage: storage)
        #expect(cache.byteCount == 0)
        _ = try cache.reserve(sequence: 0, positions: Array(0..<4))
        #expect(cache.byteCount == blockBytes(storage))
        _ = try cache.reserve(sequence: 0, positions: Array(4..<1000))
        #expect(cache.byteCount == 4 * blockBytes(storage))
        #expect(cache.byteCount < Self.geometry.capacity * Self.geometry.bytesPerToken / 100)
        cache.remove(sequence: 0, range: 10..<1000)
        #expect(cache.byteCount == blockBytes(storage))
        #expect(cache.positions(of: 0) == Array(0..<10))
        cache.remove(sequence: 0)
        #expect(cache.byteCount == 0)
    }

    @Test func growingKeepsWhatWasWritten() throws {
        let cache = KVCache(geometry: CacheGeometry(layers: 1, kvHeads: 1, headDimension: 4, capacity: 4096), rotary:
                                RotaryEmbedding(headDimension: 4, theta: 10_000), storage: .anchored)
        let keys: [Float] = (0..<12).map { (i: Int) -> Float in Float(i) / 4 - 1 }
        let values: [Float] = (0..<12).map { (i: Int) -> Float in Float(i) }
        let cells = try cache.reserve(sequence: 0, positions: [0, 1, 2])
        var cos = [Float](repeating: 0, count: 6), sin = [Float](repeating: 0, count: 6)
        [0, 1, 2].withUnsafeBufferPointer { cache.rotary.table(positions: $0, cos: &cos, sin: &sin) }
        cache.write(layer: 0, first: cells[0], count: 3, canonicalKeys: keys, newValues: values, rowStride: 4,
                    table: RotationTable(rows: 3, cos: cos, sin: sin))
        let before = try cache.keys(layer: 0, sequence: 0, positions: [0, 1, 2])
        _ = try cache.reserve(sequence: 1, positions: Array(0..<2000))
        #expect(try cache.keys(layer: 0, sequence: 0, positions: [0, 1, 2]) == before)
        #expect(try cache.values(layer: 0, sequence: 0, positions: [0, 1, 2]) == values)
        cache.remove(sequence: 1)
        #expect(try cache.values(layer: 0, sequence: 0, positions: [0, 1, 2]) == values)
    }

    @Test func aSequenceHoldsOneCellPerPosition() throws {
        let cache = KVCache(geometry: CacheGeometry(layers: 1, kvHeads: 1, headDimension: 4, capacity: 16),
                            rotary: RotaryEmbedding(headDimension: 4, theta: 10_000))
        let first = try cache.reserve(sequence: 0, positions: [0, 1, 2, 3])
        // Reserving a held position returns its cell (the next write overwrites it).
        #expect(try cache.reserve(sequence: 0, positions: [2, 4]) == [first[2], 4])
        #expect(throws: CacheError.duplicatePosition(5)) { try cache.reserve(sequence: 0, positions: [5, 5]) }
        #expect(throws: CacheError.positionOccupied(sequence: 0, position: 3)) { try cache.shift(sequence: 0, range: 0..<2, by: 3) }
        _ = try cache.reserve(sequence: 1, positions: [1])
        #expect(throws: CacheError.positionOccupied(sequence: 1, position: 1)) { try cache.copy(from: 0, to: 1) }
        #expect(throws: CacheError.positionNotHeld(sequence: 0, position: 9)) { try cache.keys(layer: 0, sequence: 0, positions: [9]) }
        #expect(cache.positions(of: 0) == [0, 1, 2, 3, 4] && cache.positions(of: 1) == [1])
    }

    /// The keys view gives keys rotated to their positions in every mode.
    @Test func keyViewsAgreeAcrossModes() throws {
        var views: [[Float]] = []
        for storage in KeyStorage.allCases {
            let cache = KVCache(geometry: CacheGeometry(layers: 1, kvHeads: 2, headDimension: 8, capacity: 16), rotary:
                                    RotaryEmbedding(headDimension: 8, theta: 10_000), storage: storage)
            let keys: [Float] = (0..<80).map { (i: Int) -> Float in Float((i * 7) % 13) / 10 - 0.6 }
            let cells = try cache.reserve(sequence: 0, positions: Array(3..<8))
            var cos = [Float](repeating: 0, count: 20), sin = [Float](repeating: 0, count: 20)
            Array(3..<8).withUnsafeBufferPointer { cache.rotary.table(positions: $0, cos: &cos, sin: &sin) }
            cache.write(layer: 0, first: cells[0], count: 5, canonicalKeys: keys, newValues: keys, rowStride: 16,
                        table: RotationTable(rows: 5, cos: cos, sin: sin))
            try cache.shift(sequence: 0, range: 0..<100, by: 40)
            views.append(try cache.keys(layer: 0, sequence: 0, positions: Array(43..<48)))
        }
        for view in views.dropFirst() {
            #expect(maxAbsoluteDifference(view, views[0]) <= 1e-5)
        }
    }
}
