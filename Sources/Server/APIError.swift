import Hummingbird

/// An error as the OpenAI API returns it: an HTTP status and `{"error": {"message", "type", "param", "code"}}`.
/// Every failure the server reports goes through this type; `ErrorMapping` turns Engine, Templates and
/// Hummingbird errors into it, so the HTTP mapping of the modules' errors lives here only.
public struct APIError: Error, Sendable, Equatable, HTTPResponseError {
    public var status: HTTPResponse.Status
    public var message: String
    /// `invalid_request_error`, `authentication_error`, `rate_limit_error`, `server_error`...
    public var type: String
    /// The request field at fault (`max_tokens`, `messages[1].content`), or nil.
    public var param: String?
    public var code: String?
    /// Seconds the client should wait before retrying (429), sent as `Retry-After`.
    public var retryAfterSeconds: Int?

    public init(status: HTTPResponse.Status, message: String, type: String, param: String? = nil, code: String? = nil,
                retryAfterSeconds: Int? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// 400 naming the field.
    static func invalid(_ param: String?, _ message: String, code: String? = nil) -> APIError {
        APIError(status: .badRequest, message: message, type: "invalid_request_error", param: param, code: code)
    }

    static let unauthorized = APIError(status: .unauthorized,
                                       message: "Incorrect or missing API key: send 'Authorization: Bearer KEY'.",
                                       type: "authentication_error", code: "invalid_api_key")

    /// The client closed the connection before a non-streamed completion ended (nginx's 499; nobody reads it,
    /// but the request log and the metrics count it).
    static let clientClosed = APIError(status: .init(code: 499, reasonPhrase: "Client Closed Request"),
                                       message: "The client closed the connection; the completion was cancelled.",
                                       type: "client_closed")

    static func modelNotFound(_ model: String) -> APIError {
        APIError(status: .notFound, message: "The model '\(model)' does not exist.", type: "invalid_request_error",
                 param: "model", code: "model_not_found")
    }

    static func routeNotFound(_ path: String) -> APIError {
        APIError(status: .notFound, message: "No route for \(path).", type: "invalid_request_error", code: "not_found")
    }

    static func bodyTooLarge(limit: Int) -> APIError {
        APIError(status: .contentTooLarge, message: "The request body is larger than \(limit) bytes.",
                 type: "invalid_request_error", code: "request_too_large")
    }

    static func queueFull(retryAfterSeconds: Int) -> APIError {
        APIError(status: .tooManyRequests, message: "The request queue is full; retry after \(retryAfterSeconds) s.",
                 type: "rate_limit_error", code: "queue_full", retryAfterSeconds: retryAfterSeconds)
    }

    static let shuttingDown = APIError(status: .serviceUnavailable, message: "The server is shutting down.",
                                       type: "server_error", code: "shutting_down")

    static func internalError(_ message: String) -> APIError {
        APIError(status: .internalServerError, message: message, type: "server_error", code: "internal_error")
    }

    /// The `{"error": {...}}` body.
    var body: JSONOutput {
        .object([("error", .object([
            ("message", .string(message)),
            ("type", .string(type)),
            ("param", .optional(param.map(JSONOutput.string))),
            ("code", .optional(code.map(JSONOutput.string))),
        ]))])
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfterSeconds { headers[.retryAfter] = String(retryAfterSeconds) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body.serialized)))
    }
}
