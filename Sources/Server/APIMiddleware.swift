import Hummingbird
import NIOCore

/// Runs around every route: authenticates (`Authorization: Bearer KEY` when the server has API keys; `/health`
/// is open), turns every error into OpenAI's error shape, counts the request by route and status and writes
/// its log line (a streamed response writes its own when the stream ends).
struct APIMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let state: ServerState

    func handle(_ request: Request, context: ServerContext,
                next: (Request, ServerContext) async throws -> Response) async throws -> Response {
        var context = context
        let record = RequestRecord(route: context.endpointPath ?? "unmatched")
        context.record = record
        do {
            if let keys = state.configuration.apiKeys, request.uri.path != "/health" {
                guard let tenant = keys.tenant(authorization: request.headers[.authorization]) else { throw APIError.unauthorized }
                context.tenant = tenant
            }
            record.set(tenant: context.tenant.name)
            let response = try await next(request, context)
            finish(record, status: response.status.code)
            return response
        } catch {
            let apiError = ErrorMapping.apiError(error, promptField: request.uri.path.hasSuffix("/chat/completions") ? "messages" : "prompt")
            finish(record, status: apiError.status.code, note: apiError.message)
            return try apiError.response(from: request, context: context)
        }
    }

    private func finish(_ record: RequestRecord, status: Int, note: String? = nil) {
        state.metrics.countRequest(route: record.route, status: status)
        if !record.isStreamed { record.log(status: status, logger: state.logger, note: note) }
    }
}
