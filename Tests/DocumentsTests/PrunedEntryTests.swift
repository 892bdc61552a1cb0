import Cache
import Foundation
import Testing
@testable import Documents

/// Entries of a RoPE-aligned pruned model: keys and values narrower than `headDimension` (and from each
/// other) round-trip, and never pass for an unpruned model's (or another pruning's) entries.
@Suite struct PrunedEntryTests {
    static let geometry = CacheGeometry(layers: 2, kvHeads: 2, headDimension: 8, keyDimension: 6, valueDimension: 5, capacity: 3)

    static func entry() -> ChunkEntry {
        let slice = CacheSlice(geometry: geometry, relativePositions: [0, 1, 2],
                               keys: (0..<2).map { layer in (0..<(3 * 12)).map { Float($0 + layer) } },
                               values: (0..<2).map { layer in (0..<(3 * 10)).map { Float($0 - layer) * 0.5 } })
        return ChunkEntry(namespace: .shared, fingerprint: TestEntries.fingerprint, tokens: [5, 6, 7], slice: slice,
                          created: Date(timeIntervalSince1970: 1_700_000_000))
    }

    @Test func aPrunedEntryRoundTripsAndStatesItsWidths() throws {
        let model = try ModelGeometry(Self.geometry)
        let data = try EntryCodec.encode(Self.entry())
        #expect(try EntryCodec.decode(data, model: model) == Self.entry())
        let header = try TestEntries.parts(of: data).header
        #expect(header.keyDimension == 6 && header.valueDimension == 5)
        #expect(Self.entry().byteCount == 3 * 2 * 2 * (6 + 5) * 4)
    }

    @Test func widthsMustMatchTheModelAndStayWithinTheHead() throws {
        let data = try EntryCodec.encode(Self.entry())
        let unpruned = try ModelGeometry(layers: 2, kvHeads: 2, headDimension: 8)
        #expect(throws: DocumentsError.self) { try EntryCodec.decode(data, model: unpruned) }
        #expect(throws: DocumentsError.self) { try ModelGeometry(layers: 2, kvHeads: 2, headDimension: 8, keyDimension: 10) }
        let forged = try TestEntries.forge(Self.entry()) { $0.valueDimension = 9 }
        #expect(throws: DocumentsError.self) { try EntryCodec.decode(forged, model: nil) }
    }
}
