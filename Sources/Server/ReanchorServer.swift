import Engine
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Templates

/// The OpenAI-compatible server over one `Scheduler`: the router (shared by `reanchor serve` and the tests),
/// and `run()`, which serves until SIGTERM/SIGINT, then stops admitting work, lets in-flight streams finish
/// within the grace period (cancelling the rest), and returns.
public struct ReanchorServer: Sendable {
    let state: ServerState

    /// - template: the model's chat template (`ChatTemplate.forModel`, or a `--chat-template` file).
    /// - bosToken, eosToken: the tokenizer's special token strings as the template sees them.
    /// - documents: the documents API (`/v1/documents`), or nil for none.
    public init(configuration: ServerConfiguration, scheduler: Scheduler, template: ChatTemplate,
                bosToken: String?, eosToken: String?, documents: DocumentService? = nil, logger: Logger) {
        let chat = ChatPromptBuilder(template: template, bosToken: bosToken, eosToken: eosToken, tokenizer: scheduler.tokenizer)
        state = ServerState(configuration: configuration, scheduler: scheduler, chat: chat, documents: documents, logger: logger)
    }

    /// Every route, behind the middleware that authenticates, maps errors, counts and logs.
    public func router() -> Router<ServerContext> {
        let router = Router(context: ServerContext.self)
        router.add(middleware: APIMiddleware(state: state))
        let info = InfoRoutes(state: state)
        let completions = CompletionRoutes(state: state)
        router.get("/health") { try await info.health($0, context: $1) }
        router.get("/metrics") { try await info.metrics($0, context: $1) }
        router.get("/v1/models") { try await info.models($0, context: $1) }
        router.get("/v1/models/{id}") { try await info.model($0, context: $1) }
        router.post("/v1/completions") { try await completions.completions($0, context: $1) }
        router.post("/v1/chat/completions") { try await completions.chat($0, context: $1) }
        if let service = state.documents {
            let documents = DocumentRoutes(state: state, documents: service)
            router.post("/v1/documents") { try await documents.create($0, context: $1) }
            router.get("/v1/documents") { try await documents.list($0, context: $1) }
            router.get("/v1/documents/{id}") { try await documents.get($0, context: $1) }
            router.delete("/v1/documents/{id}") { try await documents.delete($0, context: $1) }
        }
        return router
    }

    /// The HTTP application; `onRunning` receives the bound address (`127.0.0.1:8080`, the real port for port 0).
    public func application(onRunning: @escaping @Sendable (String) -> Void = { _ in }) -> some ApplicationProtocol {
        let configuration = state.configuration
        return Application(
            router: router(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "reanchor"),
            onServerRunning: { channel in
                let address = channel.localAddress
                let host = address?.ipAddress ?? configuration.host
                let port = address?.port ?? configuration.port
                onRunning(host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
            },
            logger: state.logger)
    }

    /// Serves until SIGTERM or SIGINT, then shuts down gracefully and returns (the process exits 0).
    public func run(onRunning: @escaping @Sendable (String) -> Void = { _ in }) async throws {
        let services = ServiceGroup(configuration: .init(
            services: [
                .init(service: application(onRunning: onRunning)),
                // Shut down first (services stop in reverse order): refuse new work, drain or cancel the streams,
                // then the HTTP server closes with no request left in flight.
                .init(service: SchedulerService(state: state), successTerminationBehavior: .gracefullyShutdownGroup),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: state.logger))
        try await services.run()
    }

    /// Starts the shutdown of the scheduler as SIGTERM would (for tests): new completions get 503 at once.
    public func shutdown() async {
        state.beginShutdown()
        await state.scheduler.shutdown(grace: state.configuration.shutdownGrace)
    }
}

/// Owns the scheduler's lifetime in the service group: on graceful shutdown, marks the server as shutting
/// down and gives in-flight jobs the grace period.
struct SchedulerService: Service {
    let state: ServerState

    func run() async throws {
        try? await gracefulShutdown()
        state.logger.info("shutting down: finishing in-flight requests (grace \(state.configuration.shutdownGrace))")
        state.beginShutdown()
        await state.scheduler.shutdown(grace: state.configuration.shutdownGrace)
        state.logger.info("scheduler stopped")
    }
}
