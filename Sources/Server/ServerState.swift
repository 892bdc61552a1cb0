import Engine
import Logging
import Synchronization
import Templates

/// Everything the routes share: the scheduler (all model work goes through it), the chat prompt builder,
/// the configuration, metrics, the request logger and whether shutdown has begun.
final class ServerState: Sendable {
    let configuration: ServerConfiguration
    let scheduler: Scheduler
    let chat: ChatPromptBuilder
    /// The documents API and its library (nil: `/v1/documents` is not served).
    let documents: DocumentService?
    let metrics = ServerMetrics()
    let logger: Logger
    private let shuttingDownFlag = Atomic<Bool>(false)

    init(configuration: ServerConfiguration, scheduler: Scheduler, chat: ChatPromptBuilder, documents: DocumentService? = nil, logger: Logger) {
        self.configuration = configuration
        self.scheduler = scheduler
        self.chat = chat
        self.documents = documents
        self.logger = logger
    }

    var isShuttingDown: Bool { shuttingDownFlag.load(ordering: .acquiring) }

    /// From now on new completions get 503 and `/health` reports shutting down.
    func beginShutdown() { shuttingDownFlag.store(true, ordering: .releasing) }
}
