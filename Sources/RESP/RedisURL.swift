/// Where a Redis (or Valkey) server is: `redis://[[user]:password@]host[:port][/db]`.
/// `host` is a name, an IPv4 address or a bracketed IPv6 address; the port defaults to 6379 and the
/// database index to 0. TLS (`rediss://`) is not supported. User and password may be percent-encoded.
public struct RedisURL: Sendable, Equatable, CustomStringConvertible {
    public let host: String
    public let port: Int
    public let database: Int
    public let user: String?
    public let password: String?

    /// Highest database index accepted (Redis's `databases` setting is 16 by default; servers may have more).
    public static let maximumDatabase = 1 << 20

    /// - Throws: `RESPError.invalidURL` naming the part that is wrong (scheme, credentials, host, port,
    ///   database); the password is never repeated in the message.
    public init(_ text: String) throws {
        let shown = RedisURL.redacted(text)
        func fail(_ part: String, _ reason: String) -> RESPError { .invalidURL(url: shown, part: part, reason: reason) }
        guard let schemeEnd = text.range(of: "://") else { throw fail("scheme", "is missing: write redis://host:port/db") }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        if scheme == "rediss" { throw fail("scheme", "rediss (TLS) is not supported: use redis://") }
        guard scheme == "redis" else { throw fail("scheme", "'\(scheme.prefix(16))' is not redis") }
        var rest = text[schemeEnd.upperBound...]
        var path = Substring("")
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        if rest.contains("?") || rest.contains("#") || path.contains("?") || path.contains("#") {
            throw fail("query", "is not supported: give the database as /N")
        }
        var user: String? = nil
        var password: String? = nil
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            let (name, secret) = credentials.firstIndex(of: ":").map { (credentials[..<$0], Optional(credentials[credentials.index(after: $0)...])) }
                ?? (credentials, nil)
            guard let secret else { throw fail("credentials", "have no ':': write user:password@ or :password@") }
            guard let decodedUser = RedisURL.percentDecoded(name), let decodedPassword = RedisURL.percentDecoded(secret) else {
                throw fail("credentials", "hold an invalid percent escape")
            }
            guard !decodedPassword.isEmpty else { throw fail("password", "is empty") }
            user = decodedUser.isEmpty ? nil : decodedUser
            password = decodedPassword
        }
        var host: Substring
        var portText: Substring? = nil
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw fail("host", "'\(rest.prefix(64))' has no closing ']'") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw fail("host", "has text after ']' that is not :port") }
                portText = after.dropFirst()
            }
        } else {
            let parts = rest.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { throw fail("host", "'\(rest.prefix(64))' has more than one ':' (bracket an IPv6 address)") }
            host = parts[0]
            portText = parts.count == 2 ? parts[1] : nil
        }
        guard !host.isEmpty else { throw fail("host", "is empty") }
        guard host.utf8.count <= 253, host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-.:_".contains($0)) }) else {
            throw fail("host", "'\(host.prefix(64))' is not a host name or address")
        }
        var port = 6379
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value), portText.allSatisfy(\.isNumber) else {
                throw fail("port", "'\(portText.prefix(16))' is not a number in 1...65535")
            }
            port = value
        }
        var database = 0
        if !path.isEmpty {
            guard path.allSatisfy(\.isNumber), path.count <= 7, let value = Int(path), value <= RedisURL.maximumDatabase else {
                throw fail("database", "'/\(path.prefix(16))' is not an index in 0...\(RedisURL.maximumDatabase)")
            }
            database = value
        }
        self.host = String(host)
        self.port = port
        self.database = database
        self.user = user
        self.password = password
    }

    /// The URL with the password replaced by `***`.
    public var description: String {
        let credentials = password == nil ? "" : "\(user ?? ""):***@"
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "redis://\(credentials)\(shownHost):\(port)/\(database)"
    }

    /// `text` with anything between `://` and the last `@` (credentials) replaced by `***`.
    static func redacted(_ text: String) -> String {
        guard let start = text.range(of: "://"), let at = text.lastIndex(of: "@"), at > start.upperBound else {
            return String(text.prefix(200))
        }
        return String((text[..<start.upperBound] + "***" + text[at...]).prefix(200))
    }

    /// `text` with `%XX` escapes decoded, or nil for a malformed escape or bytes that are not UTF-8.
    static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next(), let low = iterator.next(),
                  let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(value)
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
