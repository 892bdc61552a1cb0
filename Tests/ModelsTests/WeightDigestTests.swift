import Foundation
import Testing
import Models

/// The weight digest (the model fingerprint's view of the weights) sees every weight byte, and is computed
/// once per file version through its on-disk cache.
@Suite struct WeightDigestTests: ScratchModels {
    /// Adds 1 to the first float of model.norm.weight: same header, different weights.
    func fineTune(_ directory: URL) throws {
        let url = directory.appendingPathComponent("model.safetensors")
        let file = try SafeTensorsFile(path: url.path)
        let info = try #require(file.tensors["model.norm.weight"])
        let offset = 8 + file.headerBytes.count + info.range.lowerBound
        var data = try Data(contentsOf: url)
        let old = data[offset..<(offset + 4)].withUnsafeBytes { Float(bitPattern: UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self))) }
        withUnsafeBytes(of: (old + 1).bitPattern.littleEndian) { data.replaceSubrange(offset..<(offset + 4), with: $0) }
        try data.write(to: url, options: .atomic)
    }

    let noCache = WeightDigestCache(file: nil)

    @Test func sameHeadersDifferentWeightsDiffer() throws {
        let base = try copyOfFixture()
        let tuned = try copyOfFixture()
        try fineTune(tuned)
        let baseCheckpoint = try Checkpoint(directory: base)
        let tunedCheckpoint = try Checkpoint(directory: tuned)
        #expect(baseCheckpoint.files.map(\.headerBytes) == tunedCheckpoint.files.map(\.headerBytes))
        #expect(baseCheckpoint.weightDigest(cache: noCache) != tunedCheckpoint.weightDigest(cache: noCache))
        // Same bytes in another directory: same digest.
        #expect(try Checkpoint(directory: try copyOfFixture()).weightDigest(cache: noCache) == baseCheckpoint.weightDigest(cache: noCache))
        #expect(baseCheckpoint.weightDigest(cache: noCache).count == 64)
    }

    @Test func shardedCheckpointHashesEveryShard() throws {
        let directory = try copyOfFixture("llama-untied-sharded")
        let before = try Checkpoint(directory: directory)
        #expect(before.files.count > 1)
        let last = try #require(before.files.last)
        var data = try Data(contentsOf: URL(fileURLWithPath: last.path))
        data[data.count - 1] ^= 1
        try data.write(to: URL(fileURLWithPath: last.path), options: .atomic)
        #expect(try Checkpoint(directory: directory).weightDigest(cache: noCache) != before.weightDigest(cache: noCache))
    }

    @Test func digestCacheIsUsedAndInvalidatedWhenTheFileChanges() throws {
        let directory = try copyOfFixture()
        let cache = WeightDigestCache(file: try temporaryDirectory().appendingPathComponent("reanchor/weight-digests.json"))
        let checkpoint = try Checkpoint(directory: directory)
        let file = try #require(checkpoint.files.first)
        let fresh = checkpoint.weightDigest(cache: cache)
        #expect(fresh == checkpoint.weightDigest(cache: noCache))
        #expect(cache.digest(for: file.identity) == file.contentDigest())

        // A planted digest for the same file identity is what the next load uses: the cache is read.
        let planted = String(repeating: "ab", count: 32)
        cache.store(planted, for: file.identity)
        #expect(try Checkpoint(directory: directory).weightDigest(cache: cache) != fresh)

        // A new version of the file has a new identity: the planted entry no longer applies.
        try fineTune(directory)
        let changed = try Checkpoint(directory: directory)
        let changedFile = try #require(changed.files.first)
        #expect(changedFile.identity != file.identity)
        #expect(changed.weightDigest(cache: cache) == changed.weightDigest(cache: noCache))
        #expect(cache.digest(for: changedFile.identity) == changedFile.contentDigest())
    }

    @Test func unwritableOrCorruptCacheStillLoads() throws {
        let checkpoint = try Checkpoint(directory: Fixtures.model("llama-tied"))
        let expected = checkpoint.weightDigest(cache: noCache)
        let unwritable = WeightDigestCache(file: URL(fileURLWithPath: "/proc/reanchor-no-such-dir/weight-digests.json"))
        #expect(checkpoint.weightDigest(cache: unwritable) == expected)
        let corruptFile = try temporaryDirectory().appendingPathComponent("weight-digests.json")
        try Data("{not json".utf8).write(to: corruptFile)
        #expect(checkpoint.weightDigest(cache: WeightDigestCache(file: corruptFile)) == expected)
    }
}
