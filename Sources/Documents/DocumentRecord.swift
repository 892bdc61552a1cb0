import Foundation

/// Who may read a document: its owner only, or every tenant (publishing it).
public enum DocumentVisibility: String, Sendable, Codable, CaseIterable {
    case `private`, `public`
}

/// Where a document's ingest stands: its chunks are being prefilled, all are in the library, or ingest
/// stopped (`failed`, with `DocumentRecord.failure` saying why: an error, or a restart mid-ingest).
public enum DocumentStatus: String, Sendable, Codable, CaseIterable {
    case processing, ready, failed
}

/// One chunk of a document: its token ids (what the library's content address is made of) and that address.
public struct DocumentChunk: Sendable, Codable, Equatable {
    /// `ChunkKey.hex` of the chunk in the document's namespace after the document's context.
    public var key: String
    public var tokens: [Int]

    public init(key: String, tokens: [Int]) {
        self.key = key
        self.tokens = tokens
    }
}

/// A document's metadata (not its K/V, which the library holds per chunk): owner, visibility, chunks in
/// order, ingest status and the client's own metadata object, kept as its JSON text.
public struct DocumentRecord: Sendable, Codable, Equatable {
    /// `doc-` and 32 hex digits, chosen by the server.
    public var id: String
    /// The tenant that ingested it (owner of a private document; the only one besides admins who may delete).
    public var owner: String
    public var visibility: DocumentVisibility
    public var status: DocumentStatus
    public var failure: String?
    /// Tokens each chunk was encoded after (the tokenizer's BOS): part of every chunk's content address.
    public var context: [Int]
    public var chunks: [DocumentChunk]
    /// The client's `metadata` object as JSON text, or nil.
    public var metadata: String?
    public var created: Date

    public init(id: String, owner: String, visibility: DocumentVisibility, status: DocumentStatus, failure: String? = nil,
                context: [Int], chunks: [DocumentChunk], metadata: String?, created: Date = Date()) {
        self.id = id
        self.owner = owner
        self.visibility = visibility
        self.status = status
        self.failure = failure
        self.context = context
        self.chunks = chunks
        self.metadata = metadata
        self.created = created
    }

    /// Tokens over all chunks.
    public var tokenCount: Int { chunks.reduce(0) { $0 + $1.tokens.count } }

    /// The namespace its chunks are stored in: public ones in the shared namespace, private ones in the owner's.
    public func namespace() throws -> Namespace {
        visibility == .public ? .shared : try Namespace.tenant(id: owner)
    }

    /// Whether tenant `tenant` may read it: its owner, or anyone when public.
    public func isVisible(to tenant: String) -> Bool { visibility == .public || owner == tenant }

    /// A fresh server-chosen id.
    public static func newID() -> String {
        "doc-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }

    /// Whether `id` has the shape of a document id (checked before it names a file).
    public static func isWellFormedID(_ id: String) -> Bool {
        let hex = id.utf8.dropFirst(4)
        return id.hasPrefix("doc-") && hex.count == 32 && hex.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// Why a record read back from a store cannot be trusted (its id, owner, a chunk key or a token id), or nil.
    func violation() -> String? {
        guard Self.isWellFormedID(id) else { return "field id \(quoted(id)) is not doc-<32 hex>" }
        guard (try? Namespace.tenant(id: owner)) != nil else { return "field owner \(quoted(owner)) is not a tenant id" }
        if let bad = chunks.first(where: { $0.key.utf8.count != 64 || !$0.key.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) } }) {
            return "field chunks holds key \(quoted(bad.key)), not a 64-hex content key"
        }
        guard (context + chunks.flatMap(\.tokens)).allSatisfy({ $0 >= 0 }) else { return "a token id is negative" }
        return nil
    }
}
