import Foundation

/// What the documents API knows of one document: who owns it, who may see it, the chunks its text was cut
/// into (their content keys, in order) and how far its ingestion got. Kept by a `DocumentStore`.
public struct DocumentRecord: Sendable, Equatable, Codable {
    public enum Visibility: String, Sendable, Codable, CaseIterable {
        /// Only the owner tenant sees it.
        case `private`
        /// Every tenant sees it (only the owner may delete it).
        case `public`
    }

    public enum Status: String, Sendable, Codable, CaseIterable {
        /// Accepted; chunks are being prefilled.
        case pending
        /// Every chunk is in the library.
        case ready
        /// Ingestion stopped; `detail` says why.
        case failed
    }

    /// 1-128 characters from letters, digits, `-`, `_`, `.` (`DocumentRecord.validate(id:)`).
    public let id: String
    /// The owner's namespace as text: `public` or `tenant:<id>` (`Namespace.description`).
    public let owner: String
    public var visibility: Visibility
    /// Content keys (`ChunkKey.hex`) of the document's chunks, in order.
    public var chunks: [String]
    public var status: Status
    public var detail: String?
    /// Seconds since 1970.
    public var created: Double

    public init(id: String, owner: Namespace, visibility: Visibility, chunks: [String] = [], status: Status = .pending,
                detail: String? = nil, created: Date = Date()) throws {
        try Self.validate(id: id)
        self.id = id
        self.owner = owner.description
        self.visibility = visibility
        self.chunks = chunks
        self.status = status
        self.detail = detail
        self.created = created.timeIntervalSince1970
    }

    /// Longest document id accepted.
    public static let maximumIDLength = 128

    /// - Throws: `DocumentsError.invalidDocument` naming the rule `id` breaks.
    public static func validate(id: String) throws {
        guard !id.isEmpty else { throw DocumentsError.invalidDocument(id: id, reason: "the id is empty") }
        guard id.utf8.count <= maximumIDLength else {
            throw DocumentsError.invalidDocument(id: String(id.prefix(maximumIDLength)) + "...",
                                                 reason: "the id has \(id.utf8.count) bytes, more than \(maximumIDLength)")
        }
        guard id.utf8.allSatisfy({ Namespace.tenantIDCharacters.contains($0) }), id != ".", id != ".." else {
            throw DocumentsError.invalidDocument(id: id, reason: "use letters, digits, '-', '_' and '.'")
        }
    }

    /// Whether a caller in `namespace` may see (resolve, list) this document: its owner, or anyone when public.
    public func isVisible(to namespace: Namespace) -> Bool {
        visibility == .public || owner == namespace.description
    }

    /// Whether a caller in `namespace` may delete or change this document: its owner only.
    public func isOwned(by namespace: Namespace) -> Bool { owner == namespace.description }

    /// Why a stored record cannot be trusted (invalid id, owner, chunk key), or nil.
    func violation() -> String? {
        do { try Self.validate(id: id) } catch { return "\(error)" }
        guard owner == "public" || (try? Namespace.parse(owner)) != nil else { return "field owner \(quoted(owner)) is not a namespace" }
        if let bad = chunks.first(where: { $0.utf8.count != 64 || !$0.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) } }) {
            return "field chunks holds \(quoted(bad)), not a 64-hex content key"
        }
        guard created.isFinite else { return "field created is \(created)" }
        return nil
    }
}

/// Where document records live: in memory for one replica (`MemoryDocumentStore`), or in the shared Redis
/// so every replica behind a load balancer resolves, lists and deletes the same documents
/// (`RedisDocumentStore`). Every call is on behalf of a caller's namespace and applies the visibility rules.
public protocol DocumentStore: Sendable {
    /// Adds or replaces `record`. - Throws: `DocumentsError.notOwner` when another namespace owns the id.
    func put(_ record: DocumentRecord) async throws
    /// The record `id` if `namespace` may see it, else nil (a document the caller may not see does not exist for it).
    func record(id: String, for namespace: Namespace) async throws -> DocumentRecord?
    /// Every record `namespace` may see, by id.
    func records(for namespace: Namespace) async throws -> [DocumentRecord]
    /// Deletes `id` when `namespace` owns it; false when there is no such document the caller owns.
    @discardableResult
    func delete(id: String, for namespace: Namespace) async throws -> Bool
}

/// Document records of one replica, in memory.
public actor MemoryDocumentStore: DocumentStore {
    private var records: [String: DocumentRecord] = [:]

    public init() {}

    public func put(_ record: DocumentRecord) throws {
        if let existing = records[record.id], existing.owner != record.owner {
            throw DocumentsError.notOwner(id: record.id)
        }
        records[record.id] = record
    }

    public func record(id: String, for namespace: Namespace) -> DocumentRecord? {
        records[id].flatMap { $0.isVisible(to: namespace) ? $0 : nil }
    }

    public func records(for namespace: Namespace) -> [DocumentRecord] {
        records.values.filter { $0.isVisible(to: namespace) }.sorted { $0.id < $1.id }
    }

    public func delete(id: String, for namespace: Namespace) -> Bool {
        guard let record = records[id], record.isOwned(by: namespace) else { return false }
        records[id] = nil
        return true
    }
}
