import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// One OpenAI-compatible server seen over HTTP: lists its model, and sends streamed completions whose events
/// are timed as they arrive.
public struct CompletionClient: Sendable {
    public let http: HTTPClient
    /// `http://host:port` (no trailing slash).
    public let baseURL: String
    public let timeout: TimeAmount

    /// Bodies of error answers and of `/v1/models` are read up to this size.
    static let maximumAnswerBytes = 1 << 20

    public init(http: HTTPClient, baseURL: String, timeout: TimeAmount = .seconds(600)) {
        self.http = http
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.timeout = timeout
    }

    /// Runs `body` with a client over an HTTP pool of its own (at least `connections` concurrent requests),
    /// shut down afterwards, whether `body` returns or throws.
    public static func with<T: Sendable>(baseURL: String, connections: Int, timeout: TimeAmount = .seconds(600),
                                         _ body: (CompletionClient) async throws -> T) async throws -> T {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(1), concurrentHTTP1ConnectionsPerHostSoftLimit: max(connections, 8))
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let result = try await body(CompletionClient(http: http, baseURL: baseURL, timeout: timeout))
            try await http.shutdown()
            return result
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    /// The id of the first model of `GET /v1/models` (the one model reanchor serve and llama-server serve).
    public func modelID() async throws -> String {
        let response = try await http.execute(HTTPClientRequest(url: baseURL + "/v1/models"), timeout: timeout)
        let body = try await response.body.collect(upTo: Self.maximumAnswerBytes)
        guard response.status == .ok else { throw LoadError.status(Int(response.status.code), Self.text(body)) }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any],
              let first = (object["data"] as? [Any])?.first as? [String: Any], let id = first["id"] as? String else {
            throw LoadError.noModel("no data[0].id in \(Self.text(body))")
        }
        return id
    }

    /// Sends `body` to `path` as a streamed request and times its events. Never throws: a failure is
    /// recorded in the timing's `error` (a load run counts errors, it does not stop at the first).
    public func stream(path: String, body: Data) async -> StreamTiming {
        var timing = StreamTiming(start: LoadClock.now())
        do {
            let response = try await http.execute(Self.post(baseURL + path, body: body), timeout: timeout)
            guard response.status == .ok else {
                let answer = try await response.body.collect(upTo: Self.maximumAnswerBytes)
                throw LoadError.status(Int(response.status.code), Self.text(answer))
            }
            var parser = ServerSentEventParser()
            for try await buffer in response.body {
                let events = try parser.feed(buffer.readableBytesView)
                let now = LoadClock.now()
                for data in events { try timing.record(try CompletionChunk(data: data), at: now) }
            }
            guard timing.sawDone, !parser.isInsideEvent else { throw LoadError.truncated }
        } catch {
            timing.error = "\(error)"
        }
        timing.end = LoadClock.now()
        return timing
    }

    /// Posts `body` (JSON) to `path` and returns the status and the whole answer (at most `maximumAnswerBytes`):
    /// for non-streamed requests, such as `bench rag-serve`'s chats.
    public func post(path: String, body: Data) async throws -> (status: Int, body: Data) {
        let response = try await http.execute(Self.post(baseURL + path, body: body), timeout: timeout)
        let answer = try await response.body.collect(upTo: Self.maximumAnswerBytes)
        return (Int(response.status.code), Data(answer.readableBytesView))
    }

    /// A JSON POST on a fresh connection (a loopback connect costs well under a millisecond): reusing one races
    /// the server closing it (llama-server's idle connections failed 1 request in 50 with "I/O on closed channel"
    /// / "remoteConnectionClosed"), and every server is measured the same way.
    private static func post(_ url: String, body: Data) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Connection", value: "close")
        request.body = .bytes(ByteBuffer(bytes: body))
        return request
    }

    private static func text(_ buffer: ByteBuffer) -> String {
        String(decoding: buffer.readableBytesView.prefix(300), as: UTF8.self)
    }
}
