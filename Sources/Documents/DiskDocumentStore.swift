import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Document metadata as one JSON file per document (`<id>.json`) in a directory (`<--library>/documents`),
/// read at start and written atomically (temporary file, fsync, rename): a restart keeps every document, and
/// a process killed mid-write leaves the old record or the new one, never a part. A record still
/// `processing` when the store opens was interrupted by the restart: it is kept as `failed` saying so (its
/// chunks that reached the library are whole entries; the document is ingested again to complete it).
public actor DiskDocumentStore: DocumentStore {
    public nonisolated let directory: URL
    private var records: [String: DocumentRecord] = [:]
    /// Files that could not be read as a record when the store opened (path and reason), left in place.
    public private(set) var skipped: [(path: String, reason: String)] = []

    /// Largest record file read, in bytes (checked before reading).
    static let maximumRecordBytes = 64 << 20

    /// Opens (creating if needed) `directory` and reads every record in it.
    /// - Throws: `DocumentsError.invalidDirectory` / `unwritable` naming the directory and the reason.
    public init(directory: URL) throws {
        try LibraryDirectory.prepare(directory)
        self.directory = directory
        let files = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: [.fileSizeKey])) ?? []
        var loaded: [String: DocumentRecord] = [:]
        var skipped: [(String, String)] = []
        for file in files where file.pathExtension == "json" {
            let id = file.deletingPathExtension().lastPathComponent
            guard DocumentRecord.isWellFormedID(id) else { continue }
            do {
                var record = try Self.read(file)
                guard record.id == id else { throw DocumentsError.invalidEntry(reason: "the file holds document \(record.id)") }
                if let violation = record.violation() { throw DocumentsError.invalidEntry(reason: violation) }
                if record.status == .processing {
                    record.status = .failed
                    record.failure = "ingest was interrupted by a server restart; ingest the document again"
                    try Self.write(record, to: file, in: directory)
                }
                loaded[id] = record
            } catch {
                skipped.append((file.path, "\(error)"))
            }
        }
        records = loaded
        self.skipped = skipped
    }

    public func put(_ record: DocumentRecord) async throws {
        guard DocumentRecord.isWellFormedID(record.id) else {
            throw DocumentsError.invalidEntry(reason: "document id '\(record.id.prefix(64))' is not doc-<32 hex>")
        }
        try Self.write(record, to: file(record.id), in: directory)
        records[record.id] = record
    }

    public func record(id: String) async -> DocumentRecord? { records[id] }
    public func all() async -> [DocumentRecord] { Array(records.values) }

    public func remove(id: String) async throws -> DocumentRecord? {
        guard let record = records[id] else { return nil }
        if unlink(file(id).path) != 0, errno != ENOENT {
            throw DocumentsError.unwritable(path: file(id).path, reason: String(cString: strerror(errno)))
        }
        records[id] = nil
        return record
    }

    public func page(visibleTo tenant: String, after: String?, limit: Int) async -> (records: [DocumentRecord], hasMore: Bool) {
        DocumentPaging.page(records.values, visibleTo: tenant, after: after, limit: limit)
    }

    private func file(_ id: String) -> URL { directory.appendingPathComponent(id + ".json") }

    private static func read(_ url: URL) throws -> DocumentRecord {
        let size = (try? url.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0
        guard size <= maximumRecordBytes else {
            throw DocumentsError.invalidEntry(reason: "\(size) bytes, more than \(maximumRecordBytes)")
        }
        let data = try Data(contentsOf: url)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return try decoder.decode(DocumentRecord.self, from: data)
    }

    /// Writes beside `target` under a temporary name, syncs, renames over `target`.
    private static func write(_ record: DocumentRecord, to target: URL, in directory: URL) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        let data = try encoder.encode(record)
        let temporary = directory.appendingPathComponent(".\(record.id).\(UUID().uuidString).tmp")
        do {
            try data.write(to: temporary)
            let handle = try FileHandle(forWritingTo: temporary)
            try handle.synchronize()
            try handle.close()
        } catch {
            unlink(temporary.path)
            throw DocumentsError.unwritable(path: target.path, reason: "\(error)")
        }
        guard rename(temporary.path, target.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary.path)
            throw DocumentsError.unwritable(path: target.path, reason: reason)
        }
    }
}
