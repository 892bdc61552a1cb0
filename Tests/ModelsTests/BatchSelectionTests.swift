import Foundation
import Testing
import TestSupport
import Models
import Cache

/// Selective recompute inside a batched pass: an entry with a `RowSelection` shrinks to the rows it keeps at
/// its layer while the other entries go on whole, and every entry gets what it gets alone (the selected one
/// through the single-sequence probe).
@Suite struct BatchSelectionTests {
    let model: LlamaModel
    let vocabulary: Int

    init() throws {
        model = try LlamaModel(directory: BatchForwardTests.models()[0].1)
        vocabulary = model.config.vocabularySize
    }

    func tokens(_ count: Int, seed: Int) -> [Int] { BatchForwardTests.tokens(count, seed: seed, vocabulary: vocabulary) }

    /// A holds 20 tokens and recomputes positions 5..<20 at layer 1 and up only for 3 of them, with 3 new
    /// tokens (logits for every row it keeps); B decodes one token; C prefills 10 fresh tokens under a selection
    /// at layer 0 that keeps every row. Then all three decode together. Each is compared with the same calls alone.
    @Test func selectedEntriesMatchTheProbeAlone() throws {
        let a = tokens(24, seed: 11), b = tokens(9, seed: 12), c = tokens(11, seed: 13)
        let kept = [2, 7, 11, 15, 16, 17]  // rows of A's entry: three recomputed held rows and the three new ones
        let aRows = Array(5..<23)
        func selectA(_ fresh: FreshProjections) -> [Int] { #expect(fresh.rows == aRows.count && fresh.layer == 1); return kept }

        // Alone.
        let aloneA = model.makeCache(capacity: 64), aloneB = model.makeCache(capacity: 64), aloneC = model.makeCache(capacity: 64)
        _ = try model.forward(tokens: Array(a[..<20]), positions: Array(0..<20), cache: aloneA, outputs: .none)
        let firstA = try model.forward(tokens: aRows.map { a[$0] }, positions: aRows, sequence: 0, cache: aloneA, outputs: .all,
                                       probe: LayerProbe(selectionLayer: 1, select: selectA))
        _ = try model.forward(tokens: Array(b[..<7]), positions: Array(0..<7), cache: aloneB, outputs: .none)
        let firstB = try model.forward(tokens: [b[7]], positions: [7], cache: aloneB)
        let firstC = try model.forward(tokens: Array(c[..<10]), positions: Array(0..<10), cache: aloneC, outputs: .last)
        let secondA = try model.forward(tokens: [a[23]], positions: [23], cache: aloneA)
        let secondB = try model.forward(tokens: [b[8]], positions: [8], cache: aloneB)
        let secondC = try model.forward(tokens: [c[10]], positions: [10], cache: aloneC)

        // Batched.
        let cache = model.makeCache(capacity: 128)
        _ = try model.forward(tokens: Array(a[..<20]), positions: Array(0..<20), sequence: 4, cache: cache, outputs: .none)
        _ = try model.forward(tokens: Array(b[..<7]), positions: Array(0..<7), sequence: 6, cache: cache, outputs: .none)
        var seenC = 0
        let first = try model.forward(batch: [
            SequenceRows(sequence: 6, tokens: [b[7]], positions: [7]),
            SequenceRows(sequence: 4, tokens: aRows.map { a[$0] }, positions: aRows, outputs: .all),
            SequenceRows(sequence: 2, tokens: Array(c[..<10]), positions: Array(0..<10)),
        ], cache: cache, selections: [
            1: RowSelection(layer: 1, select: selectA),
            2: RowSelection(layer: 0) { fresh in seenC = fresh.rows; return Array(0..<fresh.rows) },
        ])
        let second = try model.forward(batch: [
            SequenceRows(sequence: 4, tokens: [a[23]], positions: [23]),
            SequenceRows(sequence: 6, tokens: [b[8]], positions: [8]),
            SequenceRows(sequence: 2, tokens: [c[10]], positions: [10]),
        ], cache: cache)

        #expect(seenC == 10)
        #expect(first[1].tokenIndices == kept && firstA.tokenIndices == kept)
        let pairs: [(String, Logits, Logits)] = [("A", first[1], firstA), ("B", first[0], firstB), ("C", first[2], firstC),
                                                 ("A decode", second[0], secondA), ("B decode", second[1], secondB),
                                                 ("C decode", second[2], secondC)]
        for (name, batched, alone) in pairs {
            let difference = maxAbsoluteDifference(batched.values, alone.values)
            #expect(difference <= BatchForwardTests.tolerance, "\(name): \(difference)")
        }
    }

    /// A selection that drops a row its sequence did not hold throws, and every position of the call is removed
    /// from every entry's sequence (lower layers were rewritten); what the sequences held elsewhere stays.
    @Test func aBadSelectionRemovesTheCallsPositions() throws {
        let cache = model.makeCache(capacity: 64)
        _ = try model.forward(tokens: tokens(6, seed: 1), positions: Array(0..<6), sequence: 0, cache: cache, outputs: .none)
        _ = try model.forward(tokens: tokens(4, seed: 2), positions: Array(0..<4), sequence: 1, cache: cache, outputs: .none)
        #expect(throws: ModelError.self) {
            try model.forward(batch: [
                SequenceRows(sequence: 1, tokens: [5], positions: [4]),
                SequenceRows(sequence: 0, tokens: tokens(8, seed: 1), positions: Array(0..<8)),
            ], cache: cache, selections: [1: RowSelection(layer: 1) { _ in [0, 1, 2, 3, 4, 5, 7] }])  // drops new row 6
        }
        #expect(cache.positions(of: 0).isEmpty)
        #expect(cache.positions(of: 1) == Array(0..<4))
        // Refused before anything is reserved: a selection for no entry, or at no layer.
        for selections in [[2: RowSelection(layer: 0) { Array(0..<$0.rows) }], [0: RowSelection(layer: model.config.layers) { Array(0..<$0.rows) }]] {
            #expect(throws: ModelError.self) {
                try model.forward(batch: [SequenceRows(sequence: 1, tokens: [5], positions: [4])], cache: cache, selections: selections)
            }
        }
        #expect(cache.positions(of: 1) == Array(0..<4))
    }
}
