import Foundation
import Testing
import Cache
@testable import Documents

/// The library never serves a wrong entry: other models, other tenants, corrupt files are all misses.
@Suite struct DocumentLibraryTests {
    let fingerprint = TestEntries.fingerprint

    func slice(count: Int, seed: Float = 1) -> CacheSlice { TestEntries.slice(count: count, seed: seed) }

    func library(directory: URL? = nil, budget: Int = 512 << 20) throws -> DocumentLibrary {
        try DocumentLibrary(fingerprint: fingerprint, geometry: try TestEntries.model, memoryBudget: budget, directory: directory)
    }

    @Test func storedChunksAreFoundByContentOnlyWithTheSameFingerprintAndNamespace() async throws {
        let library = try library()
        let tokens = [5, 6, 7, 8]
        try await library.store(tokens: tokens, slice: slice(count: 4), namespace: .shared)
        #expect(await library.lookup(tokens: tokens, namespace: .shared)?.slice == slice(count: 4))
        #expect(await library.lookup(tokens: [5, 6, 7], namespace: .shared) == nil)
        let other = Fingerprint(model: "model-b", tokenizer: "tokenizer-a")
        #expect(ChunkKey(fingerprint: fingerprint, namespace: .shared, tokens: tokens)
                != ChunkKey(fingerprint: other, namespace: .shared, tokens: tokens))
    }

    @Test func tenantsSeePublicAndTheirOwnButNeverEachOthers() async throws {
        let library = try library()
        let alice = try Namespace.tenant(id: "alice")
        let bob = try Namespace.tenant(id: "bob")
        try await library.store(tokens: [1, 2], slice: slice(count: 2), namespace: alice)
        try await library.store(tokens: [3, 4], slice: slice(count: 2, seed: 2), namespace: .shared)
        #expect(await library.lookup(tokens: [1, 2], namespace: alice) != nil)
        #expect(await library.lookup(tokens: [1, 2], namespace: bob) == nil)
        #expect(await library.lookup(tokens: [1, 2], namespace: .shared) == nil)
        #expect(await library.lookup(tokens: [3, 4], namespace: bob)?.namespace == .shared)
    }

    @Test func memoryTierEvictsLeastRecentlyUsedWithinItsBudget() async throws {
        let entryBytes = slice(count: 4).byteCount
        let tier = MemoryTier(budget: 2 * entryBytes)
        let entries = (0..<3).map { ChunkEntry(namespace: .shared, fingerprint: fingerprint, tokens: [$0], slice: slice(count: 4)) }
        await tier.store(entries[0])
        await tier.store(entries[1])
        _ = await tier.entry(for: entries[0].key)  // 0 is now more recent than 1
        await tier.store(entries[2])
        #expect(await tier.entry(for: entries[1].key) == nil)
        #expect(await tier.entry(for: entries[0].key) != nil)
        let statistics = await tier.statistics
        #expect(statistics.evictions == 1 && statistics.entries == 2 && statistics.bytes == 2 * entryBytes)
    }

    @Test func diskTierSurvivesRestartAndPromotesToMemory() async throws {
        let directory = TestEntries.temporaryDirectory()
        do {
            let library = try library(directory: directory)
            try await library.store(tokens: [9, 9, 9], slice: slice(count: 3), namespace: .shared)
        }
        let reopened = try library(directory: directory)
        #expect(await reopened.disk?.statistics.entries == 1)
        #expect(await reopened.lookup(tokens: [9, 9, 9], namespace: .shared)?.slice == slice(count: 3))
        #expect(await reopened.memory.statistics.entries == 1)
        #expect(await reopened.takeEvents().isEmpty)
    }

    @Test(arguments: ["flip", "truncate", "empty", "swap"])
    func corruptFilesAreDiscardedCountedRecordedAndNeverServed(damage: String) async throws {
        let directory = TestEntries.temporaryDirectory()
        let library = try library(directory: directory, budget: 0)  // nothing in memory: every lookup reads the file
        try await library.store(tokens: [4, 2], slice: slice(count: 2), namespace: .shared)
        let disk = try #require(library.disk)
        let file = disk.path(for: ChunkKey(fingerprint: fingerprint, namespace: .shared, tokens: [4, 2]))
        var data = try Data(contentsOf: file)
        switch damage {
        case "flip": data[data.count - 40] ^= 0x40  // a payload byte: only the checksum can tell
        case "truncate": data = data.prefix(data.count - 100)
        case "empty": data = Data()
        default:  // a valid file of another entry under this key's name
            data = try EntryCodec.encode(ChunkEntry(namespace: .shared, fingerprint: fingerprint, tokens: [7], slice: slice(count: 1)))
        }
        try data.write(to: file)
        #expect(await library.lookup(tokens: [4, 2], namespace: .shared) == nil)
        #expect(await library.statistics.disk?.corrupt == 1)
        #expect(!FileManager.default.fileExists(atPath: file.path))
        let events = await library.takeEvents()
        #expect(events.map(\.kind) == [.discarded] && events.first?.path == file.path)
        let expected = ["flip": "checksum mismatch", "truncate": "size mismatch", "empty": "truncated: 0 bytes",
                        "swap": "not the one its name says"][damage] ?? "?"
        #expect(events.first?.reason.contains(expected) == true, "\(events)")
        #expect(await library.takeEvents().isEmpty, "events are taken once")
    }

    @Test func aChunkThatDoesNotFitTheModelIsRefusedAndNotStored() async throws {
        let library = try library()
        let wide = CacheGeometry(layers: 2, kvHeads: 4, headDimension: 4, capacity: 1)
        let foreign = CacheSlice(geometry: wide, relativePositions: [0], keys: [[Float]](repeating: Array(repeating: 1, count: 16), count: 2),
                                 values: [[Float]](repeating: Array(repeating: 1, count: 16), count: 2))
        await #expect(throws: DocumentsError.geometryMismatch("made for another model geometry: kvHeads is 4, the model has 2")) {
            try await library.store(tokens: [1], slice: foreign, namespace: .shared)
        }
        await #expect(throws: DocumentsError.geometryMismatch("field relativePositions has 2 cells for 3 tokens")) {
            try await library.store(tokens: [1, 2, 3], slice: slice(count: 2), namespace: .shared)
        }
        var poisoned = slice(count: 1).keys
        poisoned[1][3] = .nan
        await #expect(throws: DocumentsError.geometryMismatch("keys of layer 1 holds nan at float 3")) {
            try await library.store(tokens: [1], slice: CacheSlice(geometry: slice(count: 1).geometry, relativePositions: [0],
                                                                   keys: poisoned, values: slice(count: 1).values), namespace: .shared)
        }
        #expect(await library.memory.statistics.entries == 0)
    }

    @Test func aFailedDiskStoreIsRecordedAndTheMemoryTierStillServes() async throws {
        let directory = TestEntries.temporaryDirectory()
        let library = try library(directory: directory)
        try FileManager.default.removeItem(at: directory)  // the directory vanishes under the library
        try await library.store(tokens: [3, 1], slice: slice(count: 2), namespace: .shared)
        #expect(await library.lookup(tokens: [3, 1], namespace: .shared)?.slice == slice(count: 2))
        #expect(await library.statistics.disk?.storeFailures == 1)
        let events = await library.takeEvents()
        #expect(events.map(\.kind) == [.storeFailed])
        #expect(events.first?.description.contains("No such file or directory") == true && events.first?.description.hasSuffix("(kept in memory only)") == true)
    }
}
