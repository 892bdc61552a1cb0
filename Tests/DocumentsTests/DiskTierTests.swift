import Cache
import Foundation
import Testing
@testable import Documents

/// The disk tier serves only entries that pass every check; a file that fails is removed, counted and
/// recorded with its path and reason, and the next run does not meet it again.
@Suite struct DiskTierTests {
    let entry = TestEntries.entry(tokens: [4, 2, 7])

    /// A disk tier for the test model in a fresh directory, with `data` planted under `entry`'s file name.
    func tier(planting data: Data?, limits: EntryLimits = .standard) async throws -> (DiskTier, URL) {
        let disk = try DiskTier(directory: TestEntries.temporaryDirectory(), geometry: try TestEntries.model, limits: limits)
        let file = disk.path(for: entry.key)
        if let data { try data.write(to: file) }
        return (disk, file)
    }

    /// Looks `entry` up, expecting a miss that removed the file and recorded one discard; returns its reason.
    func expectDiscard(_ disk: DiskTier, _ file: URL) async throws -> String {
        #expect(await disk.entry(for: entry.key) == nil)
        #expect(!FileManager.default.fileExists(atPath: file.path))
        let statistics = await disk.statistics
        #expect(statistics.corrupt == 1 && statistics.misses == 1 && statistics.hits == 0)
        let events = await disk.takeEvents()
        #expect(events.count == 1)
        let event = try #require(events.first)
        #expect(event.kind == .discarded && event.path == file.path)
        #expect(event.description.hasPrefix("discarded \(file.path): "))
        return event.reason
    }

    @Test func aStoredEntryIsServedBack() async throws {
        let (disk, _) = try await tier(planting: nil)
        try await disk.store(entry)
        #expect(await disk.entry(for: entry.key) == entry)
        #expect(await disk.takeEvents().isEmpty)
    }

    /// Issue 8: the overflowing header trapped, and as the file stayed every later run trapped too.
    @Test func anOverflowingHeaderIsDiscardedAndRemovedSoTheNextRunDoesNotMeetIt() async throws {
        let forged = try TestEntries.forge(entry) { $0.kvHeads = 1 << 40; $0.headDimension = 1 << 40 }
        let (disk, file) = try await tier(planting: forged)
        let reason = try await expectDiscard(disk, file)
        #expect(reason.contains("field kvHeads is 1099511627776"), "\(reason)")
        let reopened = try DiskTier(directory: disk.directory, geometry: try TestEntries.model)
        #expect(await reopened.entry(for: entry.key) == nil)
        #expect(await reopened.statistics.corrupt == 0)
    }

    /// Issue 8: a 2 GB sparse file was read whole before being rejected.
    @Test func aHugeSparseFileIsRejectedByItsSizeAlone() async throws {
        let (disk, file) = try await tier(planting: Data())
        let handle = try FileHandle(forWritingTo: file)
        try handle.truncate(atOffset: 2 << 30)  // sparse: no blocks written
        try handle.close()
        let reason = try await expectDiscard(disk, file)
        #expect(reason == "the file has 2147483648 bytes, above the maximum entry size 1073741824", "\(reason)")
    }

    @Test func aFileLargerThanItsHeaderImpliesIsRejectedBeforeItsPayloadIsRead() async throws {
        // A valid entry followed by a sparse gigabyte: within the limit, but not the size its header says.
        let data = try EntryCodec.encode(entry)
        let (disk, file) = try await tier(planting: data)
        let handle = try FileHandle(forWritingTo: file)
        try handle.truncate(atOffset: 1 << 30)
        try handle.close()
        let reason = try await expectDiscard(disk, file)
        #expect(reason == "size mismatch: the file has 1073741824 bytes, its header implies \(data.count)", "\(reason)")
    }

    /// Issue 8: shifted positions with a recomputed checksum were served as a hit.
    @Test(arguments: [[1, 2, 3], [-1, 0, 1]])
    func shiftedOrNegativePositionsAreAMissRemovedAndRecorded(positions: [Int]) async throws {
        let (disk, file) = try await tier(planting: try TestEntries.forge(entry) { $0.relativePositions = positions })
        let reason = try await expectDiscard(disk, file)
        #expect(reason.contains("field relativePositions[0] is \(positions[0])"), "\(reason)")
    }

    @Test func anEntryOfAnotherGeometryIsAMissRemovedAndRecorded() async throws {
        let other = CacheGeometry(layers: 1, kvHeads: 2, headDimension: 4, capacity: 3)
        let width = other.keyWidth
        let foreign = ChunkEntry(namespace: .shared, fingerprint: TestEntries.fingerprint, tokens: entry.tokens,
                                 slice: CacheSlice(geometry: other, relativePositions: [0, 1, 2], keys: [Array(repeating: 1, count: 3 * width)],
                                                   values: [Array(repeating: 2, count: 3 * width)]))
        let (disk, file) = try await tier(planting: try EntryCodec.encode(foreign))
        let reason = try await expectDiscard(disk, file)
        #expect(reason == "header made for another model geometry: layers is 1, the model has 2", "\(reason)")
    }

    @Test func aFileHoldingAnotherKeysEntryIsAMiss() async throws {
        let (disk, file) = try await tier(planting: try EntryCodec.encode(TestEntries.entry(tokens: [9])))
        let reason = try await expectDiscard(disk, file)
        #expect(reason.contains("not the one its name says"), "\(reason)")
    }

    @Test func aFIFOUnderAnEntrysNameDoesNotBlockTheLookup() async throws {
        let (disk, file) = try await tier(planting: nil)
        #expect(mkfifo(file.path, 0o644) == 0)
        let reason = try await expectDiscard(disk, file)
        #expect(reason == "not a regular file")
    }

    @Test func aStoreOfAChunkThatDoesNotFitTheModelThrows() async throws {
        let (disk, file) = try await tier(planting: nil)
        let shifted = ChunkEntry(namespace: .shared, fingerprint: TestEntries.fingerprint, tokens: [1, 2],
                                 slice: CacheSlice(geometry: entry.slice.geometry, relativePositions: [1, 2],
                                                   keys: TestEntries.slice(count: 2).keys, values: TestEntries.slice(count: 2).values))
        await #expect(throws: DocumentsError.geometryMismatch("field relativePositions[0] is 1, expected 0 (a chunk's positions are 0, 1, ..., count - 1)")) {
            try await disk.store(shifted)
        }
        #expect(!FileManager.default.fileExists(atPath: file.path))
    }

    @Test func aFailedStoreIsThrownCountedAndRecorded() async throws {
        let (disk, file) = try await tier(planting: nil)
        try FileManager.default.removeItem(at: disk.directory)  // the directory vanishes under the tier
        await #expect(throws: DocumentsError.unwritable(path: file.path, reason: "cannot create a temporary file: No such file or directory")) {
            try await disk.store(entry)
        }
        #expect(await disk.statistics.storeFailures == 1)
        let events = await disk.takeEvents()
        #expect(events.map(\.kind) == [.storeFailed] && events.first?.path == file.path)
    }
}
