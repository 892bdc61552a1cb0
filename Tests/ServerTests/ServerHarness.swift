import Engine
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Server
import Templates
import TestSupport
import Testing

/// A server over a real scheduler on the embedded books-5m model, tested in memory through its router.
struct ServerHarness {
    static let modelDirectory = Locations.repositoryRoot.appendingPathComponent("models/books-5m")
    static let modelID = "books-5m"

    let server: ReanchorServer
    let scheduler: Scheduler

    init(maxSequences: Int = 4, maxQueue: Int = 16, context: Int? = nil, apiKeys: APIKeys? = nil, maxBodyBytes: Int = 64 << 10) throws {
        let languageModel = try LanguageModel(directory: Self.modelDirectory)
        scheduler = try Scheduler(languageModel: languageModel,
                                  configuration: SchedulerConfiguration(maxSequences: maxSequences, maxQueue: maxQueue, context: context))
        let configuration = try ServerConfiguration(apiKeys: apiKeys, modelID: Self.modelID,
                                                    defaultChatMaxTokens: scheduler.context,
                                                    maxBodyBytes: maxBodyBytes, shutdownGrace: .seconds(5))
        let tokens = try ChatTemplateFile.specialTokens(modelDirectory: Self.modelDirectory)
        server = ReanchorServer(configuration: configuration, scheduler: scheduler,
                                template: try ChatTemplate.forModel(directory: Self.modelDirectory),
                                bosToken: tokens.bos, eosToken: tokens.eos, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    /// Runs `body` against a real HTTP server on a loopback port (`client.port`), then stops the scheduler.
    func live<Value: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        let application = Application(router: server.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        let value = try await application.test(.live, body)
        await scheduler.shutdown(grace: .seconds(1))
        return value
    }

    /// Runs `body` against the router in memory, then stops the scheduler.
    func test<Value: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        try await Self.test(server, scheduler, body)
    }

    /// Runs `body` against `server`'s router in memory, then stops `scheduler`.
    static func test<Value: Sendable>(_ server: ReanchorServer, _ scheduler: Scheduler,
                                      _ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        let application = Application(router: server.router())
        let value = try await application.test(.router, body)
        await scheduler.shutdown(grace: .seconds(1))
        return value
    }
}

/// Request helpers.
extension TestClientProtocol {
    func post(_ uri: String, json: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        var fields = headers
        fields[.contentType] = "application/json"
        return try await execute(uri: uri, method: .post, headers: fields, body: ByteBuffer(string: json))
    }

    func get(_ uri: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        try await execute(uri: uri, method: .get, headers: headers)
    }
}

extension TestResponse {
    /// The body as a JSON object.
    func json() throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(String(buffer: body).utf8))
        return try #require(object as? [String: Any], "not a JSON object: \(String(buffer: body))")
    }

    /// The `data:` payloads of a server-sent event stream, in order (`[DONE]` included as text).
    func events() throws -> [String] {
        let text = String(buffer: body)
        #expect(text.hasSuffix("\n\n"), "an SSE stream ends with a blank line")
        return text.components(separatedBy: "\n\n").filter { !$0.isEmpty }.map { event in
            #expect(event.hasPrefix("data: "), "every event is a data line: \(event)")
            return String(event.dropFirst("data: ".count))
        }
    }

    /// `error` of an OpenAI error body, checked for its four fields.
    func apiError() throws -> (message: String, type: String, param: String?, code: String?) {
        let error = try #require(try json()["error"] as? [String: Any], "no error object in \(String(buffer: body))")
        let message = try #require(error["message"] as? String)
        let type = try #require(error["type"] as? String)
        #expect(error.keys.contains("param") && error.keys.contains("code"), "param and code are always present")
        return (message, type, error["param"] as? String, error["code"] as? String)
    }
}

/// JSON helpers over `[String: Any]`.
func object(_ value: Any?) throws -> [String: Any] { try #require(value as? [String: Any], "not an object: \(String(describing: value))") }
func array(_ value: Any?) throws -> [Any] { try #require(value as? [Any], "not an array: \(String(describing: value))") }
func integer(_ value: Any?) throws -> Int { try #require((value as? NSNumber)?.intValue, "not a number: \(String(describing: value))") }
func number(_ value: Any?) throws -> Double { try #require((value as? NSNumber)?.doubleValue, "not a number: \(String(describing: value))") }
func parse(_ text: String) throws -> [String: Any] {
    try object(try JSONSerialization.jsonObject(with: Data(text.utf8)))
}
