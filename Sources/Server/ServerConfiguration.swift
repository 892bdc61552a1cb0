import Foundation

/// How the server listens and what it accepts. Checked at construction: a host beyond loopback needs API keys.
public struct ServerConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port (the bound one is printed at startup).
    public var port: Int
    /// nil: one tenant (`Tenant.local`), loopback only.
    public var apiKeys: APIKeys?
    /// The model's name in `/v1/models` and in the `model` field of requests.
    public var modelID: String
    /// Tokens a chat may generate when it gives no `max_tokens` (the context window).
    public var defaultChatMaxTokens: Int
    /// Largest request body in bytes (413 beyond).
    public var maxBodyBytes: Int
    /// After SIGTERM/SIGINT: how long in-flight streams may run before they are cancelled.
    public var shutdownGrace: Duration
    /// Unix time the server started (`created` of the model).
    public let startedAt = Int(Date().timeIntervalSince1970)

    /// Tokens a completion generates when it gives no `max_tokens` (OpenAI's default).
    public static let defaultCompletionMaxTokens = 16

    public init(host: String = "127.0.0.1", port: Int = 8080, apiKeys: APIKeys? = nil, modelID: String,
                defaultChatMaxTokens: Int, maxBodyBytes: Int = 4 << 20, shutdownGrace: Duration = .seconds(10)) throws {
        guard (0...65535).contains(port) else { throw ServerError.option(name: "port", reason: "must be in 0...65535, found \(port)") }
        guard apiKeys != nil || Self.isLoopback(host) else { throw ServerError.nonLoopbackWithoutKeys(host: host) }
        guard defaultChatMaxTokens >= 1 else {
            throw ServerError.option(name: "context", reason: "must leave at least 1 token to generate")
        }
        guard maxBodyBytes >= 1024 else { throw ServerError.option(name: "max-body-bytes", reason: "must be >= 1024") }
        self.host = host
        self.port = port
        self.apiKeys = apiKeys
        self.modelID = modelID
        self.defaultChatMaxTokens = defaultChatMaxTokens
        self.maxBodyBytes = maxBodyBytes
        self.shutdownGrace = shutdownGrace
    }

    /// `localhost`, `::1` and 127.0.0.0/8.
    public static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "127" else { return false }
        return parts.allSatisfy { part in UInt8(part) != nil }
    }
}
