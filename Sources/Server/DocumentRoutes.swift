import Documents
import Foundation
import Hummingbird
import NIOCore

/// `POST /v1/documents`, `GET /v1/documents` (own and public, paged), `GET /v1/documents/{id}` and
/// `DELETE /v1/documents/{id}`. The tenant comes from the authenticated key (`ServerContext.tenant`).
struct DocumentRoutes: Sendable {
    let state: ServerState
    let documents: DocumentService

    /// Page sizes of `GET /v1/documents` (`limit`).
    static let pageSizes = 1...100
    static let defaultPageSize = 20

    func create(_ request: Request, context: ServerContext) async throws -> Response {
        let limit = state.configuration.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit { throw APIError.bodyTooLarge(limit: limit) }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIError.bodyTooLarge(limit: limit)
        }
        let body = try DocumentRequest.decode(Data(buffer.readableBytesView))
        let chunks = try chunks(of: body)
        let (record, count) = try await documents.ingest(chunks: chunks, visibility: body.visibility, metadata: body.metadata,
                                                         tenant: context.tenant)
        var output = Self.output(record)
        if let count, case .object(var fields) = output {
            fields.append(("reanchor", .object([("prefilled_chunks", .int(count.prefilled)), ("known_chunks", .int(count.known))])))
            output = .object(fields)
        }
        return CompletionResponder.json(output, status: record.status == .processing ? .accepted : .created)
    }

    func list(_ request: Request, context: ServerContext) async throws -> Response {
        let query = request.uri.queryParameters
        var limit = Self.defaultPageSize
        if let text = query["limit"] {
            guard let value = Int(String(text)), Self.pageSizes.contains(value) else {
                throw APIError.invalid("limit", "'limit' must be an integer in \(Self.pageSizes.lowerBound)...\(Self.pageSizes.upperBound).")
            }
            limit = value
        }
        let after = query["after"].map(String.init)
        let (records, hasMore) = try await documents.store.page(visibleTo: context.tenant.name, after: after, limit: limit)
        return CompletionResponder.json(.object([
            ("object", .string("list")),
            ("data", .array(records.map(Self.output))),
            ("first_id", .optional(records.first.map { .string($0.id) })),
            ("last_id", .optional(records.last.map { .string($0.id) })),
            ("has_more", .bool(hasMore)),
        ]))
    }

    func get(_ request: Request, context: ServerContext) async throws -> Response {
        let record = try await documents.visibleRecord(id: context.parameters.get("id") ?? "", tenant: context.tenant)
        return CompletionResponder.json(Self.output(record))
    }

    func delete(_ request: Request, context: ServerContext) async throws -> Response {
        let record = try await documents.delete(id: context.parameters.get("id") ?? "", tenant: context.tenant)
        return CompletionResponder.json(.object([("id", .string(record.id)), ("object", .string("document.deleted")), ("deleted", .bool(true))]))
    }

    /// The chunks' token ids: `text` cut at paragraph boundaries, or `chunks` as given, each within `--chunk-tokens`.
    private func chunks(of body: DocumentRequest) throws -> [[Int]] {
        let maximum = documents.configuration.chunkTokens
        let chunks: [[Int]]
        if let given = body.chunks {
            chunks = try given.enumerated().map { index, text in
                let tokens = documents.tokenizer.encode(text, addSpecialTokens: false, continuing: true)
                guard !tokens.isEmpty else { throw APIError.invalid("chunks[\(index)]", "'chunks[\(index)]' is empty.") }
                guard tokens.count <= maximum else {
                    throw APIError.invalid("chunks[\(index)]", "'chunks[\(index)]' has \(tokens.count) tokens, more than --chunk-tokens \(maximum).")
                }
                return tokens
            }
            guard !chunks.isEmpty else { throw APIError.invalid("chunks", "'chunks' is empty.") }
        } else {
            chunks = TextChunker(tokenizer: documents.tokenizer, maximumTokens: maximum).chunks(of: body.text ?? "")
            guard !chunks.isEmpty else { throw APIError.invalid("text", "'text' holds no paragraph.") }
        }
        guard chunks.count <= documents.configuration.maximumChunks else {
            throw APIError.invalid(body.chunks == nil ? "text" : "chunks",
                                   "The document has \(chunks.count) chunks, more than \(documents.configuration.maximumChunks).")
        }
        return chunks
    }

    /// A document as the API shows it (its owner's name is not shown: a public document does not reveal who published it).
    static func output(_ record: DocumentRecord) -> JSONOutput {
        var fields: [(String, JSONOutput)] = [
            ("id", .string(record.id)),
            ("object", .string("document")),
            ("visibility", .string(record.visibility.rawValue)),
            ("status", .string(record.status.rawValue)),
            ("tokens", .int(record.tokenCount)),
            ("chunks", .array(record.chunks.map { .object([("id", .string($0.key)), ("tokens", .int($0.tokens.count))]) })),
            ("metadata", .metadata(record.metadata)),
            ("created_at", .int(Int(record.created.timeIntervalSince1970))),
        ]
        if let failure = record.failure { fields.append(("failure", .string(failure))) }
        return .object(fields)
    }
}
