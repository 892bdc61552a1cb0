/// Why a request of the load generator failed; each names what the server did.
public enum LoadError: Error, CustomStringConvertible, Equatable {
    /// The server answered with a status other than 200 (with the start of its body).
    case status(Int, String)
    /// An event's data was neither `[DONE]` nor a JSON object.
    case badChunk(String)
    /// The stream carried an error object.
    case streamError(String)
    /// The stream ended without `[DONE]` (or inside an event).
    case truncated
    /// `/v1/models` listed no model, or was not OpenAI's shape.
    case noModel(String)

    public var description: String {
        switch self {
        case let .status(code, body): "HTTP \(code): \(body)"
        case .badChunk(let data): "event data is neither [DONE] nor a JSON object: \(data)"
        case .streamError(let message): "error in the stream: \(message)"
        case .truncated: "the stream ended before data: [DONE]"
        case .noModel(let reason): "GET /v1/models: \(reason)"
        }
    }
}
