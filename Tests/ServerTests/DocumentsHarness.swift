import Documents
import Engine
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import RESP
import Server
import Templates
import Testing

/// A server with the documents API and three keys: tenants alpha and beta, and an admin of tenant ops.
struct DocumentsHarness {
    static let keys = """
        {"keys": [{"key": "key-alpha", "tenant": "alpha"}, {"key": "key-beta", "tenant": "beta"},
                  {"key": "key-admin", "tenant": "ops", "admin": true}]}
        """
    static let alpha: HTTPFields = [.authorization: "Bearer key-alpha"]
    static let beta: HTTPFields = [.authorization: "Bearer key-beta"]
    static let admin: HTTPFields = [.authorization: "Bearer key-admin"]

    /// Paragraphs of a few tokens each, so a small `chunkTokens` cuts between them.
    static let text = """
        It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife.

        However little known the feelings or views of such a man may be on his first entering a neighbourhood.

        The ship sailed at dawn, and the harbour fell silent behind her.
        """

    let server: ReanchorServer
    let scheduler: Scheduler
    let documents: DocumentService

    init(chunkTokens: Int = 32, backgroundTokens: Int = 4096, directory: String? = nil, reuse: ReuseConfiguration = .standard,
         remote: RedisURL? = nil) throws {
        let languageModel = try LanguageModel(directory: ServerHarness.modelDirectory)
        scheduler = try Scheduler(languageModel: languageModel, configuration: SchedulerConfiguration(maxSequences: 2, maxQueue: 8))
        let configuration = try ServerConfiguration(apiKeys: try APIKeys(data: Data(Self.keys.utf8)), modelID: ServerHarness.modelID,
                                                    defaultChatMaxTokens: scheduler.context, maxBodyBytes: 64 << 10,
                                                    shutdownGrace: .seconds(5))
        documents = try DocumentService(languageModel: languageModel,
                                        configuration: try DocumentsConfiguration(chunkTokens: chunkTokens, backgroundTokens: backgroundTokens,
                                                                                  contextLimit: 1000),
                                        directory: directory, reuse: reuse, remote: remote)
        let tokens = try ChatTemplateFile.specialTokens(modelDirectory: ServerHarness.modelDirectory)
        server = ReanchorServer(configuration: configuration, scheduler: scheduler,
                                template: try ChatTemplate.forModel(directory: ServerHarness.modelDirectory),
                                bosToken: tokens.bos, eosToken: tokens.eos, documents: documents,
                                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    func test<Value: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        try await ServerHarness.test(server, scheduler, body)
    }
}

extension TestClientProtocol {
    func delete(_ uri: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        try await execute(uri: uri, method: .delete, headers: headers)
    }

    /// Posts a document and returns the response body (expecting `status`).
    func ingest(_ json: String, as headers: HTTPFields, status: HTTPResponse.Status = .created) async throws -> [String: Any] {
        let response = try await post("/v1/documents", json: json, headers: headers)
        #expect(response.status == status, "\(String(buffer: response.body))")
        return try response.json()
    }
}
