import Cache
import Foundation
import Testing
@testable import Documents

/// Compact entries (`KVFormat`): each format round-trips within its error bound, records itself in the header,
/// has the payload size it claims, is stable when copied between tiers, and is rejected (then discarded as a
/// miss by a tier) when corrupt; f32 entries of format version 1 stay readable.
@Suite struct CompactEntryTests {
    /// 2 layers of 3 kv heads of 64 (two q8 blocks per row), keys wider in magnitude than values.
    static let geometry = CacheGeometry(layers: 2, kvHeads: 3, headDimension: 64, capacity: 1)

    static var model: ModelGeometry {
        get throws { try ModelGeometry(geometry) }
    }

    /// K/V of `count` tokens spread over six orders of magnitude, with a few outliers per row as real keys have.
    static func slice(count: Int, seed: UInt64 = 1) -> CacheSlice {
        var state = seed
        func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24) * 2 - 1
        }
        let width = geometry.keyWidth
        func tensor(_ magnitude: Float) -> [Float] {
            (0..<(count * width)).map { index in
                let scale: Float = index % 61 == 0 ? magnitude * 30 : (index % 7 == 0 ? magnitude * 1e-3 : magnitude)
                return next() * scale
            }
        }
        return CacheSlice(geometry: geometry.with(capacity: count), relativePositions: Array(0..<count),
                          keys: (0..<2).map { _ in tensor(8) }, values: (0..<2).map { _ in tensor(0.5) })
    }

    static func entry(_ format: KVFormat, tokens: [Int] = [3, 1, 4, 1, 5], seed: UInt64 = 1) -> ChunkEntry {
        ChunkEntry(namespace: .shared, fingerprint: TestEntries.fingerprint, tokens: tokens, slice: slice(count: tokens.count, seed: seed),
                   format: format, created: Date(timeIntervalSince1970: 1_700_000_000))
    }

    /// Element-wise error bounds: bf16 and f16 relative (round to nearest: half a unit in the last place of an
    /// 8- and an 11-bit significand, 2^-8 and 2^-11; f16 below its normal range 2^-14 absolute 2^-25), q8 half a
    /// step of the value's block.
    @Test(arguments: KVFormat.allCases)
    func eachFormatRoundTripsWithinItsBound(format: KVFormat) throws {
        let original = Self.slice(count: 5)
        let entry = Self.entry(format)
        #expect(entry.format == format)
        let decoded = try EntryCodec.decode(try EntryCodec.encode(entry), model: try Self.model)
        #expect(decoded == entry, "the decoded entry holds exactly the values the entry holds")
        #expect(decoded.format == format)
        var worst: Float = 0
        for (stored, exact) in zip(decoded.slice.keys + decoded.slice.values, original.keys + original.values) {
            for row in stride(from: 0, to: exact.count, by: 64) {
                for block in stride(from: row, to: row + 64, by: 32) {
                    let step = exact[block..<(block + 32)].map(abs).max().map { $0 / 127 } ?? 0
                    for index in block..<(block + 32) {
                        let error = abs(stored[index] - exact[index])
                        let bound: Float = switch format {
                        case .f32: 0
                        case .bf16: abs(exact[index]) * 0x1p-8
                        case .f16: max(abs(exact[index]) * 0x1p-11, 0x1p-25)
                        case .q8: step * 0.5 * (1 + 1e-4)
                        }
                        #expect(error <= bound, "\(format) value \(index): \(stored[index]) for \(exact[index])")
                        worst = max(worst, bound > 0 ? error / bound : error)
                    }
                }
            }
        }
        if format != .f32 { #expect(worst > 0.1, "\(format): the bound is not tight (worst error \(worst) of it)") }
    }

    @Test(arguments: KVFormat.allCases)
    func theHeaderRecordsTheFormatAndThePayloadHasItsSize(format: KVFormat) throws {
        let data = try EntryCodec.encode(Self.entry(format))
        let (header, payload) = try TestEntries.parts(of: data)
        #expect(header.kv == format)
        #expect(EntryCodec.version(data.prefix(16)) == 2)
        // 5 tokens x 2 layers x (keys + values) x 3 heads x 64 values.
        let expected = switch format {
        case .f32: 5 * 2 * 2 * 3 * 64 * 4
        case .bf16, .f16: 5 * 2 * 2 * 3 * 64 * 2
        case .q8: 5 * 2 * 2 * 3 * 2 * 36
        }
        #expect(payload.count == expected)
        #expect(format.bytesPerToken(layers: 2, kvHeads: 3, keyDimension: 64, valueDimension: 64) == expected / 5)
    }

    /// Rounding is idempotent: an entry decoded from a tier and stored again (a remote hit copied to disk) has
    /// the same bytes.
    @Test(arguments: KVFormat.allCases)
    func reencodingADecodedEntryGivesTheSameBytes(format: KVFormat) throws {
        let data = try EntryCodec.encode(Self.entry(format))
        let decoded = try EntryCodec.decode(data)
        #expect(try EntryCodec.encode(decoded) == data)
        let again = ChunkEntry(namespace: .shared, fingerprint: TestEntries.fingerprint, tokens: decoded.tokens, slice: decoded.slice,
                               format: format, created: decoded.created)
        #expect(again == decoded)
    }

    @Test func aValueBeyondF16sRangeKeepsTheEntryF32() throws {
        var keys = Self.slice(count: 2).keys
        keys[1][17] = 70_000
        let slice = CacheSlice(geometry: Self.geometry.with(capacity: 2), relativePositions: [0, 1], keys: keys, values: Self.slice(count: 2).values)
        let entry = ChunkEntry(namespace: .shared, fingerprint: TestEntries.fingerprint, tokens: [1, 2], slice: slice, format: .f16)
        #expect(entry.format == .f32 && entry.slice == slice)
        #expect(ChunkEntry(namespace: .shared, fingerprint: TestEntries.fingerprint, tokens: [1, 2], slice: slice, format: .bf16).format == .bf16)
    }

    /// The committed version 1 entry (written by `scripts/fuzz/entry/make_seeds.py` before compact entries)
    /// still decodes, as f32.
    @Test func aVersion1EntryIsStillReadAsF32() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/entry-valid/public-3-tokens.kv")
        let data = try Data(contentsOf: file)
        #expect(EntryCodec.version(data.prefix(16)) == 1)
        let entry = try EntryCodec.decode(data, model: try TestEntries.model)
        #expect(entry.format == .f32 && entry.tokens == [5, 6, 7])
    }

    /// The seed script writes compact entries on its own (Python `struct`, its own rounding and q8): the decoder
    /// agrees with it value for value.
    @Test(arguments: [KVFormat.bf16, .f16, .q8])
    func theSeedScriptsCompactEntriesDecode(format: KVFormat) throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/entry-valid")
        let data = try Data(contentsOf: folder.appendingPathComponent("public-3-tokens-\(format).kv"))
        let entry = try EntryCodec.decode(data, model: try TestEntries.model)
        let reference = try EntryCodec.decode(try Data(contentsOf: folder.appendingPathComponent("public-3-tokens.kv")))
        #expect(entry.format == format && entry.tokens == reference.tokens)
        // The script's values (0.25 * (i % 17) - 1) are exact in bf16 and f16; q8 rounds them to steps of 3/127.
        for (stored, exact) in zip(entry.slice.keys + entry.slice.values, reference.slice.keys + reference.slice.values) {
            for (a, b) in zip(stored, exact) {
                #expect(format == .q8 ? abs(a - b) <= 3.0 / 127 / 2 * 1.0001 : a == b, "\(format): \(a) for \(b)")
            }
        }
        #expect(try EntryCodec.encode(entry) == data, "this build writes the same bytes as the script")
    }

    @Test func aVersion2HeaderWithoutTheFormatOrAVersion1HeaderWithOneIsRejected() throws {
        let entry = Self.entry(.bf16)
        var (header, payload) = try TestEntries.parts(of: EntryCodec.encode(entry))
        // assemble writes version 1 for a header without kv: its payload is then read as f32, twice too short.
        header.kv = nil
        #expect(rejection(try EntryCodec.assemble(header: header, payload: payload))?.hasPrefix("size mismatch") == true)
        var data = try EntryCodec.assemble(header: header, payload: payload)
        data.replaceSubrange(8..<12, with: [2, 0, 0, 0])
        data = Data(data.dropLast(32)) + Data(EntryCodec.checksum(of: Data(data.dropLast(32))))
        #expect(rejection(data)?.hasPrefix("header field kv is missing") == true)
        header.kv = .q8
        data = try EntryCodec.assemble(header: header, payload: payload)
        data.replaceSubrange(8..<12, with: [1, 0, 0, 0])
        data = Data(data.dropLast(32)) + Data(EntryCodec.checksum(of: Data(data.dropLast(32))))
        #expect(rejection(data)?.hasPrefix("header field kv is q8 in a format version 1 entry") == true)
    }

    @Test func anUnknownFormatNamesTheField() throws {
        let (header, payload) = try TestEntries.parts(of: EntryCodec.encode(Self.entry(.f16)))
        var json = try #require(String(data: try JSONEncoder().encode(header), encoding: .utf8))
        json = json.replacingOccurrences(of: "\"kv\":\"f16\"", with: "\"kv\":\"q4\"")
        var data = Data(EntryCodec.magic) + Data([2, 0, 0, 0])
        let length = UInt32(json.utf8.count)
        data.append(contentsOf: (0..<4).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) })
        data.append(Data(json.utf8))
        data.append(payload)
        data.append(contentsOf: EntryCodec.checksum(of: data))
        #expect(rejection(data)?.contains("field kv") == true)
    }

    /// A compact payload holding a non-finite value (bf16 / f16 NaN or infinity, a q8 scale that is NaN), with
    /// a valid checksum and key: rejected naming the tensor.
    @Test(arguments: [(KVFormat.bf16, [UInt8]([0x80, 0x7F]), "payload keys of layer 0 holds inf at float 1"),
                      (.f16, [0x00, 0x7E], "payload keys of layer 0 holds nan at float 1"),
                      (.q8, [0x00, 0x00, 0xC0, 0x7F], "payload keys of layer 0 has a q8 block (0) whose scale is not finite")])
    func nonFiniteCompactValuesAreRejected(format: KVFormat, bytes: [UInt8], reason: String) throws {
        let offset = format == .q8 ? 0 : 2
        let data = try TestEntries.forge(Self.entry(format), payload: { $0.replaceSubrange(offset..<(offset + bytes.count), with: bytes) }) { _ in }
        #expect(rejection(data) == reason)
    }

    /// A corrupt compact file in a library directory is a miss: deleted, counted, recorded.
    @Test(arguments: [KVFormat.bf16, .f16, .q8])
    func aCorruptCompactFileIsDiscardedAsAMiss(format: KVFormat) async throws {
        let entry = Self.entry(format)
        let disk = try DiskTier(directory: TestEntries.temporaryDirectory(), geometry: try Self.model)
        try await disk.store(entry)
        #expect(await disk.entry(for: entry.key) == entry)
        var data = try Data(contentsOf: disk.path(for: entry.key))
        data[data.count - 100] ^= 0x01
        try data.write(to: disk.path(for: entry.key))
        #expect(await disk.entry(for: entry.key) == nil)
        #expect(!FileManager.default.fileExists(atPath: disk.path(for: entry.key).path))
        let statistics = await disk.statistics
        #expect(statistics.corrupt == 1 && statistics.misses == 1 && statistics.hits == 1)
        #expect(await disk.takeEvents().first?.reason.hasPrefix("checksum mismatch") == true)
    }

    /// A library storing a compact format serves the same floats from memory and, after a restart, from disk.
    @Test(arguments: [KVFormat.bf16, .f16, .q8])
    func everyTierServesTheRoundedValues(format: KVFormat) async throws {
        let directory = TestEntries.temporaryDirectory()
        let library = try DocumentLibrary(fingerprint: TestEntries.fingerprint, geometry: try Self.model, directory: directory, format: format)
        let stored = try await library.store(tokens: [9, 8, 7], slice: Self.slice(count: 3), namespace: .shared)
        #expect(stored.format == format && stored.slice != Self.slice(count: 3))
        let fromMemory = try #require(await library.lookup(tokens: [9, 8, 7], namespace: .shared))
        let restarted = try DocumentLibrary(fingerprint: TestEntries.fingerprint, geometry: try Self.model, directory: directory)
        let fromDisk = try #require(await restarted.lookup(tokens: [9, 8, 7], namespace: .shared))
        #expect(fromMemory.slice == stored.slice && fromDisk.slice == stored.slice && fromDisk.format == format)
        let listed = try LibraryInspection.disk(path: directory.path, namespace: nil, verify: true)
        #expect(listed.entries.map(\.kv) == [format] && listed.corrupt.isEmpty)
    }
}
