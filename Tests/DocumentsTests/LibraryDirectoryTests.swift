import Foundation
import Testing
@testable import Documents

/// Opening the library directory fails with the path and the reason, and cleans only stale temporaries.
@Suite struct LibraryDirectoryTests {
    @Test(arguments: ["", "  "])
    func anEmptyPathIsAnErrorNotTheCurrentDirectory(path: String) throws {
        #expect(throws: DocumentsError.invalidDirectory(path: path, reason: "the path is empty; name a directory for the library")) {
            try DocumentLibrary(fingerprint: TestEntries.fingerprint, geometry: try TestEntries.model, path: path)
        }
    }

    @Test func aPathUnderARegularFileNamesTheFile() throws {
        let directory = TestEntries.temporaryDirectory()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("notes.txt")
        try Data("x".utf8).write(to: file)
        let library = file.appendingPathComponent("library/deeper")
        #expect(throws: DocumentsError.invalidDirectory(path: library.path, reason: "\(file.path) is a file, not a directory")) {
            try DiskTier(directory: library, geometry: nil)
        }
        #expect(throws: DocumentsError.invalidDirectory(path: file.path, reason: "\(file.path) is a file, not a directory")) {
            try DiskTier(path: file.path, geometry: nil)
        }
    }

    @Test func aDirectoryThatCannotBeCreatedNamesTheComponent() throws {
        #expect(throws: DocumentsError.invalidDirectory(path: "/proc/reanchor-library",
                                                        reason: "cannot create /proc/reanchor-library: No such file or directory")) {
            try DiskTier(directory: URL(fileURLWithPath: "/proc/reanchor-library"), geometry: nil)
        }
    }

    @Test func missingAncestorsAreCreated() async throws {
        let directory = TestEntries.temporaryDirectory().appendingPathComponent("a/b/c")
        let disk = try DiskTier(directory: directory, geometry: try TestEntries.model)
        try await disk.store(TestEntries.entry(tokens: [1]))
        #expect(await disk.statistics.entries == 1)
    }

    @Test func staleTemporariesAreRemovedAndYoungOnesLeftToTheirWriter() async throws {
        let directory = TestEntries.temporaryDirectory()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let key = String(repeating: "ab", count: 32)
        let stale = directory.appendingPathComponent(".\(key).\(UUID().uuidString).tmp")
        let young = directory.appendingPathComponent(".\(key).\(UUID().uuidString).tmp")
        // A user's own files are never the library's to remove, however old and however named.
        let notTemporary = directory.appendingPathComponent("abc.tmp")
        let usersHidden = directory.appendingPathComponent(".notes.tmp")
        let almost = directory.appendingPathComponent(".\(key).not-a-uuid.tmp")
        for file in [stale, young, notTemporary, usersHidden, almost] { try Data("partial".utf8).write(to: file) }
        for file in [stale, notTemporary, usersHidden, almost] {
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -7200)], ofItemAtPath: file.path)
        }
        let disk = try DiskTier(directory: directory, geometry: nil, staleTemporaryAge: 3600)
        #expect(!FileManager.default.fileExists(atPath: stale.path))
        for kept in [young, notTemporary, usersHidden, almost] { #expect(FileManager.default.fileExists(atPath: kept.path)) }
        let events = await disk.takeEvents()
        #expect(events.map(\.kind) == [.removedTemporary] && events.first?.path == stale.path)
        #expect(events.first?.reason.hasPrefix("temporary file of an interrupted write, last modified 7") == true, "\(events)")
    }
}
