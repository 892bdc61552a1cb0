import Foundation
import Testing
@testable import Documents

/// Every input the entry fuzzer (`scripts/fuzz/run.sh entry`) found crashing is committed under
/// `Fixtures/entry/` and must now be a discard with a reason, not a crash, both when decoded and when
/// found in a library directory.
@Suite struct FuzzRegressionTests {
    @Test func everyFixtureIsRejectedWithAReason() throws {
        let fixtures = try TestEntries.fuzzFixtures()
        #expect(!fixtures.isEmpty, "no fixtures in Fixtures/entry")
        for (name, data) in fixtures {
            // The harness also decodes each input with its checksum recomputed; so does this test.
            for variant in [data, data + Data(FuzzRegressionTests.sha256(data))] {
                let reason = rejection(variant, model: try TestEntries.model)
                #expect(reason != nil && reason?.hasPrefix("unexpected") == false, "\(name): \(reason ?? "accepted")")
            }
        }
    }

    @Test func everyFixtureInALibraryDirectoryIsDiscardedAndRemoved() async throws {
        let entry = TestEntries.entry(tokens: [1, 2])
        for (name, data) in try TestEntries.fuzzFixtures() {
            let disk = try DiskTier(directory: TestEntries.temporaryDirectory(), geometry: try TestEntries.model)
            let file = disk.path(for: entry.key)
            try data.write(to: file)
            #expect(await disk.entry(for: entry.key) == nil, "\(name)")
            #expect(!FileManager.default.fileExists(atPath: file.path), "\(name)")
            #expect(await disk.takeEvents().map(\.kind) == [.discarded], "\(name)")
        }
    }

    /// The crafted inputs of issue 8 (written by `scripts/fuzz/entry/make_seeds.py`) are rejected for their reason.
    @Test(arguments: [
        ("issue8-kvheads-2e40.kv", "header field kvHeads is 1099511627776, outside 1...1024"),
        ("issue8-shifted-positions.kv", "header field relativePositions[0] is 1, expected 0"),
        ("issue8-negative-positions.kv", "header field relativePositions[0] is -1, expected 0"),
        ("issue8-token-count.kv", "header field relativePositions has 3 cells for 4 tokens"),
    ])
    func craftedIssueInputsAreRejectedForTheirReason(name: String, reason: String) throws {
        let data = try #require(try TestEntries.fuzzFixtures().first { $0.name == name }?.data, "\(name) missing")
        let rejected = try #require(rejection(data, model: try TestEntries.model))
        #expect(rejected.hasPrefix(reason), "\(rejected)")
    }

    /// The seed writer and the decoder agree on the format, so the fuzzer's seeds are valid entries.
    @Test func theSeedScriptsValidEntryDecodes() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/entry-valid/public-3-tokens.kv")
        let entry = try EntryCodec.decode(try Data(contentsOf: file), model: try TestEntries.model)
        #expect(entry.tokens == [5, 6, 7] && entry.context == [1, 2] && entry.namespace == .shared)
        #expect(entry.slice.keys[0].prefix(3) == [-1, -0.75, -0.5] && entry.slice.values[1].last == 1.5)
        #expect(entry.key == ChunkKey(fingerprint: TestEntries.fingerprint, namespace: .shared, context: [1, 2], tokens: [5, 6, 7]))
    }

    static func sha256(_ data: Data) -> [UInt8] {
        Array(EntryCodec.checksum(of: data))
    }
}
