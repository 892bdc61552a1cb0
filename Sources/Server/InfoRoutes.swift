import Hummingbird

/// `GET /health`, `GET /v1/models`, `GET /v1/models/{id}` and `GET /metrics`.
struct InfoRoutes: Sendable {
    let state: ServerState

    func health(_ request: Request, context: ServerContext) async throws -> Response {
        guard !state.isShuttingDown else { throw APIError.shuttingDown }
        return CompletionResponder.json(.object([("status", .string("ok"))]))
    }

    func models(_ request: Request, context: ServerContext) async throws -> Response {
        CompletionResponder.json(.object([("object", .string("list")), ("data", .array([model]))]))
    }

    func model(_ request: Request, context: ServerContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        guard id == state.configuration.modelID else { throw APIError.modelNotFound(id) }
        return CompletionResponder.json(model)
    }

    /// Prometheus text format 0.0.4.
    func metrics(_ request: Request, context: ServerContext) async throws -> Response {
        let library = await state.documents?.library.statistics
        let text = state.metrics.exposition(state.scheduler.snapshot, library: library)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    private var model: JSONOutput {
        .object([("id", .string(state.configuration.modelID)), ("object", .string("model")),
                 ("created", .int(state.configuration.startedAt)), ("owned_by", .string("reanchor"))])
    }
}
