import Documents
import Foundation

/// The body of `POST /v1/documents`: `{"text": ..., "chunks": [...]?, "visibility": "private"|"public",
/// "metadata": {...}?}`. Either `text` (chunked by the server) or `chunks` (each one chunk, as given).
struct DocumentRequest: Decodable, Sendable {
    var text: String?
    var chunks: [String]?
    var visibility: DocumentVisibility
    /// `metadata` as compact JSON text (an object), or nil.
    var metadata: String?

    enum CodingKeys: String, CodingKey { case text, chunks, visibility, metadata }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        text = try container.decodeIfPresent(String.self, forKey: .text)
        chunks = try container.decodeIfPresent([String].self, forKey: .chunks)
        let visibility = try container.decodeIfPresent(String.self, forKey: .visibility) ?? "private"
        guard let parsed = DocumentVisibility(rawValue: visibility) else {
            throw APIError.invalid("visibility", "'visibility' must be 'private' or 'public', found '\(visibility.prefix(40))'.")
        }
        self.visibility = parsed
        metadata = try container.decodeIfPresent(MetadataObject.self, forKey: .metadata)?.json
    }

    /// Decodes the body and checks that exactly one of `text` / `chunks` holds something.
    static func decode(_ data: Data) throws -> DocumentRequest {
        let body: DocumentRequest
        do {
            body = try JSONDecoder().decode(DocumentRequest.self, from: data)
        } catch let error as DecodingError {
            throw ErrorMapping.apiError(error)
        }
        switch (body.text, body.chunks) {
        case (nil, nil): throw APIError.invalid("text", "Give 'text' (chunked by the server) or 'chunks'.")
        case (.some, .some): throw APIError.invalid("chunks", "Give 'text' or 'chunks', not both.")
        default: return body
        }
    }
}

/// A JSON object kept as compact text with sorted keys (any content; only its kind is checked).
struct MetadataObject: Decodable {
    let json: String

    init(from decoder: any Decoder) throws {
        let value = try AnyJSON(from: decoder)
        guard case .object = value else {
            throw DecodingError.typeMismatch([String: Any].self, .init(codingPath: decoder.codingPath, debugDescription: "an object"))
        }
        json = value.output.serialized
    }
}

/// Any JSON value, decoded.
indirect enum AnyJSON: Decodable {
    case null, bool(Bool), number(Double), integer(Int), string(String), array([AnyJSON]), object([String: AnyJSON])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int.self) { self = .integer(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([AnyJSON].self) { self = .array(value) }
        else { self = .object(try container.decode([String: AnyJSON].self)) }
    }

    /// As the server writes it, object keys sorted.
    var output: JSONOutput {
        switch self {
        case .null: return .null
        case .bool(let value): return .bool(value)
        case .integer(let value): return .int(value)
        case .number(let value): return .double(value)
        case .string(let value): return .string(value)
        case .array(let values): return .array(values.map(\.output))
        case .object(let fields): return .object(fields.sorted { $0.key < $1.key }.map { ($0.key, $0.value.output) })
        }
    }
}

extension JSONOutput {
    /// Stored metadata JSON text back as a value (nil text or text that no longer parses: null).
    static func metadata(_ text: String?) -> JSONOutput {
        guard let text, let value = try? JSONDecoder().decode(AnyJSON.self, from: Data(text.utf8)) else { return .null }
        return value.output
    }
}
