import Cache
import Foundation
import Testing
@testable import Documents

/// The entry decoder trusts nothing a file says: every forged header below has a valid checksum and key,
/// and each is rejected with a reason naming the field, without trapping or allocating what it claims.
@Suite struct EntryCodecTests {
    let entry = TestEntries.entry(tokens: [5, 6, 7], context: [1, 2])

    @Test func anEncodedEntryDecodesToItself() throws {
        let decoded = try EntryCodec.decode(try EntryCodec.encode(entry), model: try TestEntries.model)
        #expect(decoded == entry)
    }

    @Test func theForgeryHelperAloneDoesNotMakeAnEntryInvalid() throws {
        // Guards the tests below: forging with no change yields an entry that decodes.
        #expect(rejection(try TestEntries.forge(entry) { _ in }, model: try TestEntries.model) == nil)
    }

    /// Issue 8: `kvHeads = headDimension = 2^40` with a recomputed checksum trapped on overflow.
    @Test(arguments: [
        ("kvHeads", 1 << 40), ("headDimension", 1 << 40), ("layers", 1 << 40), ("layers", Int.max), ("kvHeads", 0),
        ("headDimension", -4), ("layers", Int.min),
    ])
    func hugeOrNonPositiveGeometryIsRejectedNamingTheField(field: String, value: Int) throws {
        let data = try TestEntries.forge(entry) { header in
            switch field {
            case "kvHeads": header.kvHeads = value
            case "headDimension": header.headDimension = value
            default: header.layers = value
            }
        }
        let reason = try #require(rejection(data))
        #expect(reason.contains("field \(field) is \(value)"), "\(reason)")
    }

    @Test func bothHeadFieldsAt2To40AreRejectedBeforeAnySizeIsComputed() throws {
        let data = try TestEntries.forge(entry) { $0.kvHeads = 1 << 40; $0.headDimension = 1 << 40 }
        #expect(rejection(data)?.contains("kvHeads") == true)
    }

    @Test func limitsRaisedPastIntAreCaughtByTheOverflowCheck() throws {
        var limits = EntryLimits()
        limits.maximumKVHeads = .max
        limits.maximumHeadDimension = .max
        let data = try TestEntries.forge(entry) { $0.kvHeads = 1 << 40; $0.headDimension = 1 << 40 }
        #expect(rejection(data, limits: limits)?.contains("above the maximum entry size") == true)
    }

    @Test func limitsBelowOneRejectEverythingWithoutTrapping() throws {
        var limits = EntryLimits()
        limits.maximumLayers = 0
        #expect(rejection(try EntryCodec.encode(entry), limits: limits) == "header field layers is 2, outside 1...0")
    }

    /// Issue 8: an entry with shifted or negative relative positions was served as a hit.
    @Test(arguments: [[1, 2, 3], [-1, 0, 1], [0, 2, 3], [0, 1, 1], [0, 2, 1], [-5, -4, -3]])
    func positionsOtherThanZeroToCountAreRejected(positions: [Int]) throws {
        let data = try TestEntries.forge(entry) { $0.relativePositions = positions }
        let reason = try #require(rejection(data))
        #expect(reason.contains("relativePositions["), "\(reason)")
    }

    @Test(arguments: [[0, 1], [0, 1, 2, 3], []])
    func aCellCountOtherThanTheTokenCountIsRejected(positions: [Int]) throws {
        let data = try TestEntries.forge(entry) { $0.relativePositions = positions }
        #expect(rejection(data)?.contains("field relativePositions has \(positions.count) cells for 3 tokens") == true)
    }

    @Test func extraTokensWithTheirKeyRecomputedAreRejected() throws {
        let data = try TestEntries.forge(entry) { $0.tokens.append(8) }
        #expect(rejection(data)?.contains("relativePositions has 3 cells for 4 tokens") == true)
    }

    @Test func negativeTokenIDsAreRejected() throws {
        let data = try TestEntries.forge(entry) { $0.context = [1, -2] }
        #expect(rejection(data)?.contains("field context[1] is -2") == true)
    }

    /// Issue 8: geometry must match the library's model exactly.
    @Test func anotherModelsGeometryIsRejectedOnlyWhenTheModelIsKnown() throws {
        let otherModel = try ModelGeometry(layers: 2, kvHeads: 1, headDimension: 8)  // same cell width, other layout
        let data = try EntryCodec.encode(entry)
        let reason = try #require(rejection(data, model: otherModel))
        #expect(reason.contains("kvHeads is 2, the model has 1") && reason.contains("headDimension is 4, the model has 8"), "\(reason)")
        #expect(rejection(data, model: try TestEntries.model) == nil)
    }

    @Test func aPayloadShorterOrLongerThanTheHeaderImpliesIsASizeMismatch() throws {
        for change in [-4, 4] {
            let data = try TestEntries.forge(entry, payload: { change < 0 ? $0.removeLast(-change) : $0.append(Data(count: change)) }) { _ in }
            let reason = try #require(rejection(data))
            #expect(reason.hasPrefix("size mismatch") && reason.contains("header implies \(data.count - change)"), "\(reason)")
        }
    }

    @Test(arguments: [Float.nan, .infinity, -.infinity])
    func nonFiniteValuesAreRejected(value: Float) throws {
        let data = try TestEntries.forge(entry, payload: { payload in
            withUnsafeBytes(of: value.bitPattern.littleEndian) { payload.replaceSubrange(8..<12, with: $0) }
        }) { _ in }
        #expect(rejection(data)?.contains("payload keys of layer 0 holds \(value) at float 2") == true)
    }

    @Test(arguments: ["private", "tenant:", "tenant:../x", "tenant:a b", "publicx"])
    func namespacesThatAreNotPublicOrAValidTenantAreRejected(namespace: String) throws {
        var (header, payload) = try TestEntries.parts(of: EntryCodec.encode(entry))
        header.namespace = namespace  // the key cannot be recomputed for an invalid namespace: the namespace check comes first
        let reason = try #require(rejection(try EntryCodec.assemble(header: header, payload: payload)))
        #expect(reason.contains("namespace"), "\(reason)")
    }

    @Test func aHeaderKeyThatIsNotTheContentsKeyIsRejected() throws {
        var (header, payload) = try TestEntries.parts(of: EntryCodec.encode(entry))
        header.tokens = [5, 6, 8]
        #expect(rejection(try EntryCodec.assemble(header: header, payload: payload))?.contains("does not match the content") == true)
    }

    @Test func prefixesOfAValidEntryAreRejectedNotTrapped() throws {
        let data = try EntryCodec.encode(entry)
        for length in [0, 1, 8, 15, 16, 47, 48, 60, data.count - 33, data.count - 1] {
            #expect(rejection(data.prefix(length)) != nil, "prefix of \(length) bytes")
        }
    }

    @Test func aHeaderLengthBeyondTheFileOrTheLimitIsRejected() throws {
        var data = try EntryCodec.encode(entry)
        data.replaceSubrange(12..<16, with: [0xFF, 0xFF, 0xFF, 0xFF])
        #expect(rejection(data)?.contains("header length 4294967295 bytes is above the maximum") == true)
        var limits = EntryLimits()
        limits.maximumHeaderBytes = .max
        #expect(rejection(data, limits: limits)?.contains("runs past the end") == true)
    }

    @Test func malformedHeaderJSONNamesTheField() throws {
        var (header, payload) = try TestEntries.parts(of: EntryCodec.encode(entry))
        header.layers = 2
        var json = try #require(String(data: try JSONEncoder().encode(header), encoding: .utf8))
        json = json.replacingOccurrences(of: "\"layers\":2", with: "\"layers\":\"two\"")
        var data = Data(EntryCodec.magic)
        data.append(contentsOf: [1, 0, 0, 0])
        let length = UInt32(json.utf8.count)
        data.append(contentsOf: (0..<4).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) })
        data.append(Data(json.utf8))
        data.append(payload)
        data.append(Data(count: 32))
        #expect(rejection(data)?.contains("field layers: expected Int") == true)
    }

    @Test func decodingASliceOfALargerBufferWorks() throws {
        // Data slices keep their parent's indices; the decoder must not assume they start at 0.
        let data = Data([9, 9, 9]) + (try EntryCodec.encode(entry))
        #expect(try EntryCodec.decode(data.dropFirst(3)) == entry)
    }
}
