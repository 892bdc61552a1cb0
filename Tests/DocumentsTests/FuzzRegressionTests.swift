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

    static func sha256(_ data: Data) -> [UInt8] {
        Array(EntryCodec.checksum(of: data))
    }
}
