import Testing
import TestSupport
import Kernels
@testable import Cache

/// Operations over position ranges, and their all-or-nothing errors.
@Suite struct CacheOperationTests {
    static let geometry = CacheGeometry(layers: 2, kvHeads: 2, headDimension: 8, capacity: 16)

    func filled(_ storage: KeyStorage, scaling: RopeScaling = .none, count: Int = 6) throws -> KVCache {
        let cache = KVCache(geometry: Self.geometry, rotary: RotaryEmbedding(headDimension: 8, theta: 10_000, scaling: scaling), storage: storage)
        let first = try #require(try cache.reserve(sequence: 0, positions: Array(0..<count)).first)
        let width = Self.geometry.keyWidth
        let keys = (0..<(count * width)).map { Float(($0 * 7) % 13) * 0.1 - 0.6 }
        let values = (0..<(count * width)).map { Float(($0 * 5) % 11) * 0.1 }
        var cos = [Float](repeating: 0, count: count * 4)
        var sin = [Float](repeating: 0, count: count * 4)
        Array(0..<count).withUnsafeBufferPointer { cache.rotary.table(positions: $0, cos: &cos, sin: &sin) }
        for layer in 0..<2 {
            cache.write(layer: layer, first: first, count: count, canonicalKeys: keys, newValues: values, rowStride: width,
                        table: RotationTable(rows: count, cos: cos, sin: sin))
        }
        return cache
    }

    /// A snapshot of everything a failed operation must leave as it was.
    func state(_ cache: KVCache) -> [Float] {
        let cells = cache.used * cache.geometry.keyWidth
        var all = cache.cells.positions.map(Float.init) + cache.cells.sequences.map(Float.init)
        for buffer in cache.tensors.keys + cache.tensors.values + cache.tensors.canonicalKeys {
            all += Array(UnsafeBufferPointer(start: buffer.pointer, count: cells))
        }
        return all
    }

    @Test(arguments: KeyStorage.allCases)
    func invalidOperationsThrowAndChangeNothing(storage: KeyStorage) throws {
        let cache = try filled(storage)
        let before = state(cache)
        #expect(throws: CacheError.invalidRange(lower: 4, upper: 4)) { try cache.shift(sequence: 0, range: 4..<4, by: 1) }
        #expect(throws: CacheError.invalidRange(lower: -3, upper: 2)) { try cache.shift(sequence: 0, range: -3..<2, by: 1) }
        #expect(throws: CacheError.emptyRange(sequence: 0, lower: 50, upper: 60)) { try cache.shift(sequence: 0, range: 50..<60, by: 1) }
        #expect(throws: CacheError.emptyRange(sequence: 3, lower: 0, upper: 6)) { try cache.shift(sequence: 3, range: 0..<6, by: 1) }
        #expect(throws: CacheError.positionOutOfRange(-2, limit: RotaryEmbedding.maximumPosition)) {
            try cache.shift(sequence: 0, range: 0..<6, by: -2)
        }
        #expect(throws: CacheError.positionOutOfRange(RotaryEmbedding.maximumPosition, limit: RotaryEmbedding.maximumPosition)) {
            try cache.shift(sequence: 0, range: 0..<6, by: RotaryEmbedding.maximumPosition)
        }
        #expect(throws: CacheError.invalidSequence(-1)) { try cache.copy(from: -1, to: 1) }
        #expect(throws: CacheError.full(requested: 12, capacity: 16, used: 6)) {
            try cache.importSlice(try filled(storage, count: 12).export(sequence: 0, range: 0..<12), sequence: 1, at: 0)
        }
        #expect(throws: CacheError.self) { try cache.export(sequence: 0, range: 7..<9) }
        #expect(state(cache) == before)
    }

    @Test func dynamicNTKRefusesToShift() throws {
        let cache = try filled(.anchored, scaling: .dynamic(factor: 2, originalContext: 64))
        let before = state(cache)
        #expect(throws: CacheError.rotationDoesNotCompose("dynamic(factor: 2.0, originalContext: 64)")) {
            try cache.shift(sequence: 0, range: 0..<6, by: 3)
        }
        #expect(throws: CacheError.positionOutOfRange(64, limit: 64)) { try cache.reserve(sequence: 0, positions: [64]) }
        #expect(state(cache) == before)
    }

    @Test(arguments: KeyStorage.allCases)
    func copyKeepAndShiftMoveMetadataAsAsked(storage: KeyStorage) throws {
        let cache = try filled(storage)
        #expect(try cache.copy(from: 0, to: 1, range: 2..<5) == 3)
        #expect(cache.positions(of: 1) == [2, 3, 4])
        #expect(try cache.shift(sequence: 1, range: 0..<10, by: 10) == 3)
        #expect(cache.positions(of: 1) == [12, 13, 14])
        #expect(cache.positions(of: 0) == [0, 1, 2, 3, 4, 5])
        cache.keep(sequence: 1)
        #expect(cache.count(sequence: 0) == 0 && cache.count(sequence: 1) == 3)
        // Canonical keys survive a round trip through export in every mode.
        let slice = try cache.export(sequence: 1, range: 12..<15)
        let original = try filled(storage).export(sequence: 0, range: 2..<5)
        for layer in 0..<2 {
            #expect(maxAbsoluteDifference(slice.keys[layer], original.keys[layer]) < 1e-5)
            #expect(slice.values[layer] == original.values[layer])
        }
    }

    @Test func contiguousRunsSplitIndices() {
        #expect(KVCache.contiguousRuns([1, 2, 3, 7, 8, 10]) == [1..<4, 7..<9, 10..<11])
    }
}
