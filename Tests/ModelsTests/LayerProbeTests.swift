import Foundation
import Testing
import Cache
import Models
import TestSupport

/// The layer probe: what it sees is the model's own Q/K/V, and a bad selection is an error, not a read
/// of memory the rows never wrote.
@Suite struct LayerProbeTests {
    let model: LlamaModel
    let tokens = [1, 17, 42, 5, 77, 63]

    init() throws { model = try LlamaModel(directory: Fixtures.model("llama-tied")) }

    @Test func freshKeysAndValuesAreWhatTheCacheStores() throws {
        let cache = model.makeCache(capacity: 16)
        var seen: FreshProjections?
        let probe = LayerProbe(selectionLayer: 1, select: { fresh in
            seen = fresh
            return Array(0..<fresh.rows)
        })
        _ = try model.forward(tokens: tokens, positions: Array(4..<10), sequence: 0, cache: cache, outputs: .last, probe: probe)
        let fresh = try #require(seen)
        #expect(fresh.layer == 1 && fresh.rows == tokens.count && fresh.positions == Array(4..<10))
        #expect(fresh.queries.count == tokens.count * model.config.heads * model.config.headDimension)
        #expect(maxAbsoluteDifference(fresh.keys, try cache.keys(layer: 1, sequence: 0, positions: Array(4..<10))) <= 1e-6)
        #expect(maxAbsoluteDifference(fresh.values, try cache.values(layer: 1, sequence: 0, positions: Array(4..<10))) <= 0)
    }

    @Test func keepingEveryRowChangesNothing() throws {
        let plain = model.makeCache(capacity: 16)
        let expected = try model.forward(tokens: tokens, positions: Array(0..<6), cache: plain, outputs: .all)
        let probed = model.makeCache(capacity: 16)
        var layers: [Int] = []
        let probe = LayerProbe(selectionLayer: 0, select: { Array(0..<$0.rows) }, attention: { layer, weights in
            layers.append(layer)
            // [rows, heads, n] over the 6 cells, each row a distribution over the cells it may see.
            #expect(weights.count == 6 * model.config.heads * 6)
            #expect(abs(weights[0..<6].reduce(0, +) - 1) < 1e-5 && weights[0] == 1)
        })
        let actual = try model.forward(tokens: tokens, positions: Array(0..<6), sequence: 0, cache: probed, outputs: .all, probe: probe)
        #expect(layers == Array(0..<model.config.layers))
        #expect(maxAbsoluteDifference(actual.values, expected.values) <= 0)
    }

    @Test func badSelectionsThrow() throws {
        let cache = model.makeCache(capacity: 16)
        _ = try model.forward(tokens: [9, 9], positions: [10, 11], sequence: 1, cache: cache, outputs: .none)
        func prefill() throws {
            cache.remove(sequence: 0)
            _ = try model.forward(tokens: Array(tokens.prefix(3)), positions: [0, 1, 2], cache: cache, outputs: .none)
        }
        func run(layer: Int?, _ select: @escaping (FreshProjections) throws -> [Int]) throws {
            _ = try model.forward(tokens: tokens, positions: Array(0..<6), sequence: 0, cache: cache, outputs: .last,
                                  probe: LayerProbe(selectionLayer: layer, select: select))
        }
        struct Refused: Error {}
        // Invalid probes are refused before anything is reserved: the cache is as it was.
        try prefill()
        #expect(throws: ModelError.self) { try run(layer: 9) { fresh in Array(0..<fresh.rows) } }
        #expect(throws: ModelError.self) { try run(layer: nil) { fresh in Array(0..<fresh.rows) } }
        #expect(cache.positions(of: 0) == [0, 1, 2])
        // A bad selection at the probe layer, or a probe that throws: lower layers were rewritten, so every
        // position of the call is removed (nothing half-written is served), and other sequences keep theirs.
        // Rows 3..5 are new: dropping one would leave its cell unwritten above the selection layer.
        for select: (FreshProjections) throws -> [Int] in [{ _ in [0, 1, 2, 3, 4] }, { _ in [1, 0, 3, 4, 5] },
                                                           { _ in [0, 1, 2, 3, 4, 5, 6] }, { _ in throw Refused() }] {
            try prefill()
            #expect(throws: (any Error).self) { try run(layer: 1, select) }
            #expect(cache.positions(of: 0).isEmpty)
            #expect(cache.positions(of: 1) == [10, 11])
        }
        // Dropping rows the sequence already held is what selective recompute does.
        try prefill()
        try run(layer: 1) { _ in [1, 3, 4, 5] }
        #expect(cache.positions(of: 0) == Array(0..<6))
    }
}
