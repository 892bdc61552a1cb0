import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opening the library's directory with errors that name the path and the reason, and cleaning what
/// interrupted writers left behind.
enum LibraryDirectory {
    /// The directory for a path given by a person (a command-line option).
    /// - Throws: `DocumentsError.invalidDirectory` for an empty or blank path, which would otherwise mean
    ///   the current directory.
    static func url(path: String) throws -> URL {
        guard !path.allSatisfy(\.isWhitespace) else {
            throw DocumentsError.invalidDirectory(path: path, reason: "the path is empty; name a directory for the library")
        }
        return URL(fileURLWithPath: path, isDirectory: true)
    }

    /// Creates `directory` and its missing ancestors, and checks it can be written.
    /// - Throws: `DocumentsError.invalidDirectory` naming the component that is a file or cannot be created,
    ///   `unwritable` when the directory exists but cannot be written.
    static func prepare(_ directory: URL) throws {
        let path = directory.standardizedFileURL.path
        var current = ""
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            current += "/" + component
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: current, isDirectory: &isDirectory) {
                guard isDirectory.boolValue else {
                    throw DocumentsError.invalidDirectory(path: path, reason: "\(current) is a file, not a directory")
                }
                continue
            }
            if mkdir(current, 0o755) != 0 {
                let reason = String(cString: strerror(errno))
                guard FileManager.default.fileExists(atPath: current, isDirectory: &isDirectory), isDirectory.boolValue else {
                    throw DocumentsError.invalidDirectory(path: path, reason: "cannot create \(current): \(reason)")
                }
                // Another process created it meanwhile: fine.
            }
        }
        guard access(path, W_OK | X_OK) == 0 else {
            throw DocumentsError.unwritable(path: path, reason: String(cString: strerror(errno)))
        }
    }

    /// Whether `name` is a temporary file of `DiskTier.store`, exactly `.<64 hex key>.<UUID>.tmp`: nothing
    /// else in the directory (a user's own `.notes.tmp`) is ever removed.
    static func isTemporary(_ name: String) -> Bool {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)  // ["", key, uuid, "tmp"]
        guard parts.count == 4, parts[0].isEmpty, parts[3] == "tmp" else { return false }
        let hex = parts[1]
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else { return false }
        return UUID(uuidString: String(parts[2])) != nil
    }

    /// Removes temporary files last modified more than `age` seconds before `now`: left by a writer that was
    /// killed between creating and renaming them. Younger ones may belong to a writer at work in another
    /// process and are left alone (a writer takes seconds; the default age is an hour).
    static func removeStaleTemporaries(in directory: URL, olderThan age: TimeInterval, now: Date = Date()) -> [LibraryEvent] {
        let keys: [URLResourceKey] = [.contentModificationDateKey, .isRegularFileKey]
        let files = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: keys)) ?? []
        var events: [LibraryEvent] = []
        for file in files where isTemporary(file.lastPathComponent) {
            guard let values = try? file.resourceValues(forKeys: Set(keys)), values.isRegularFile == true,
                  let modified = values.contentModificationDate else { continue }
            let elapsed = now.timeIntervalSince(modified)
            guard elapsed > age else { continue }
            if unlink(file.path) == 0 {
                events.append(LibraryEvent(kind: .removedTemporary, path: file.path,
                                           reason: "temporary file of an interrupted write, last modified \(String(format: "%.0f", elapsed)) s ago",
                                           time: now))
            }
        }
        return events
    }
}
