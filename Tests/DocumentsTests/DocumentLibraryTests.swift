import Foundation
import Testing
import Cache
@testable import Documents

/// The library never serves a wrong entry: other models, other tenants, corrupt files are all misses.
@Suite struct DocumentLibraryTests {
    let fingerprint = Fingerprint(model: "model-a", tokenizer: "tokenizer-a")

    func slice(count: Int, seed: Float = 1) -> CacheSlice {
        let geometry = CacheGeometry(layers: 2, kvHeads: 2, headDimension: 4, capacity: count)
        let width = geometry.cellWidth
        return CacheSlice(geometry: geometry, relativePositions: Array(0..<count),
                          keys: (0..<2).map { layer in (0..<(count * width)).map { Float($0 + layer) * seed } },
                          values: (0..<2).map { layer in (0..<(count * width)).map { Float($0 - layer) * seed * 0.5 } })
    }

    func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("reanchor-docs-\(UUID().uuidString)")
    }

    @Test func storedChunksAreFoundByContentOnlyWithTheSameFingerprintAndNamespace() async throws {
        let library = try DocumentLibrary(fingerprint: fingerprint)
        let tokens = [5, 6, 7, 8]
        try await library.store(tokens: tokens, slice: slice(count: 4), namespace: .shared)
        #expect(await library.lookup(tokens: tokens, namespace: .shared)?.slice == slice(count: 4))
        #expect(await library.lookup(tokens: [5, 6, 7], namespace: .shared) == nil)
        let other = try DocumentLibrary(fingerprint: Fingerprint(model: "model-b", tokenizer: "tokenizer-a"))
        #expect(ChunkKey(fingerprint: fingerprint, namespace: .shared, tokens: tokens)
                != ChunkKey(fingerprint: other.fingerprint, namespace: .shared, tokens: tokens))
    }

    @Test func tenantsSeePublicAndTheirOwnButNeverEachOthers() async throws {
        let library = try DocumentLibrary(fingerprint: fingerprint)
        let alice = try Namespace.tenant(id: "alice")
        let bob = try Namespace.tenant(id: "bob")
        try await library.store(tokens: [1, 2], slice: slice(count: 2), namespace: alice)
        try await library.store(tokens: [3, 4], slice: slice(count: 2, seed: 2), namespace: .shared)
        #expect(await library.lookup(tokens: [1, 2], namespace: alice) != nil)
        #expect(await library.lookup(tokens: [1, 2], namespace: bob) == nil)
        #expect(await library.lookup(tokens: [1, 2], namespace: .shared) == nil)
        #expect(await library.lookup(tokens: [3, 4], namespace: bob)?.namespace == .shared)
        #expect(throws: DocumentsError.invalidTenant("../etc")) { try Namespace.tenant(id: "../etc") }
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
        let directory = temporaryDirectory()
        do {
            let library = try DocumentLibrary(fingerprint: fingerprint, directory: directory)
            try await library.store(tokens: [9, 9, 9], slice: slice(count: 3), namespace: .shared)
        }
        let reopened = try DocumentLibrary(fingerprint: fingerprint, directory: directory)
        #expect(await reopened.disk?.statistics.entries == 1)
        #expect(await reopened.lookup(tokens: [9, 9, 9], namespace: .shared)?.slice == slice(count: 3))
        #expect(await reopened.memory.statistics.entries == 1)
    }

    @Test(arguments: ["flip", "truncate", "empty", "swap"])
    func corruptFilesAreDiscardedCountedAndNeverServed(damage: String) async throws {
        let directory = temporaryDirectory()
        let disk = try DiskTier(directory: directory)
        let entry = ChunkEntry(namespace: .shared, fingerprint: fingerprint, tokens: [4, 2], slice: slice(count: 2))
        try await disk.store(entry)
        let file = await disk.path(for: entry.key)
        var data = try Data(contentsOf: file)
        switch damage {
        case "flip": data[data.count / 2] ^= 0x40
        case "truncate": data = data.prefix(data.count - 100)
        case "empty": data = Data()
        default:  // a valid file of another entry under this key's name
            data = try EntryCodec.encode(ChunkEntry(namespace: .shared, fingerprint: fingerprint, tokens: [7], slice: slice(count: 1)))
        }
        try data.write(to: file)
        #expect(await disk.entry(for: entry.key) == nil)
        #expect(await disk.statistics.corrupt == 1)
        #expect(!FileManager.default.fileExists(atPath: file.path))
    }

    @Test func unwritableDirectoryIsAClearError() async throws {
        #expect(throws: DocumentsError.self) { try DiskTier(directory: URL(fileURLWithPath: "/proc/reanchor-library")) }
        let directory = temporaryDirectory()
        let disk = try DiskTier(directory: directory)
        try FileManager.default.removeItem(at: directory)  // the directory vanishes under the tier
        await #expect(throws: DocumentsError.self) {
            try await disk.store(ChunkEntry(namespace: .shared, fingerprint: fingerprint, tokens: [1], slice: slice(count: 1)))
        }
    }
}
