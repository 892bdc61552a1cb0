import NIOCore

/// The commands the document library uses, with their replies checked.
extension RedisClient {
    /// `PING`: true when the server answers PONG.
    public func ping() async throws -> Bool {
        try await send(RESPCommand("PING")) == .simple("PONG")
    }

    /// `GET key`: the value, or nil when there is no such key (never set, expired or evicted).
    public func get(_ key: String) async throws -> ByteBuffer? {
        try Self.optionalBulk(await send(RESPCommand("GET", key)), command: "GET")
    }

    /// The values of `keys` in one pipelined write (one `GET` each, so each reply is checked on its own).
    public func get(_ keys: [String]) async throws -> [ByteBuffer?] {
        let replies = try await pipeline(keys.map { RESPCommand("GET", $0) })
        return try replies.map { reply in
            if case .error(let message) = reply { throw RESPError.server(message) }
            return try Self.optionalBulk(reply, command: "GET")
        }
    }

    /// `SET key value [PX milliseconds]`: atomic, so a reader sees the old value or the whole new one.
    /// - expiry: time to live; nil keeps the key until it is deleted or evicted.
    public func set(_ key: String, _ value: ByteBuffer, expiry: Duration? = nil) async throws {
        var arguments = [ByteBuffer(string: "SET"), ByteBuffer(string: key), value]
        if let expiry {
            let milliseconds = max(expiry.components.seconds * 1000 + expiry.components.attoseconds / 1_000_000_000_000_000, 1)
            arguments += [ByteBuffer(string: "PX"), ByteBuffer(string: String(milliseconds))]
        }
        let reply = try await send(RESPCommand(arguments))
        guard reply == .simple("OK") else { throw RESPError.unexpectedReply(command: "SET", reply: reply.summary) }
    }

    /// `DEL keys...`: how many existed.
    @discardableResult
    public func delete(_ keys: [String]) async throws -> Int {
        guard !keys.isEmpty else { return 0 }
        return try Self.integer(await send(RESPCommand(words: ["DEL"] + keys)), command: "DEL")
    }

    /// `EXISTS key`.
    public func exists(_ key: String) async throws -> Bool {
        try Self.integer(await send(RESPCommand("EXISTS", key)), command: "EXISTS") > 0
    }

    /// `STRLEN` of each key in one pipelined write (0 for a missing key).
    public func lengths(_ keys: [String]) async throws -> [Int] {
        try await pipeline(keys.map { RESPCommand("STRLEN", $0) }).map { try Self.integer($0, command: "STRLEN") }
    }

    /// Every key matching `pattern` (a glob), by `SCAN` cursor: never blocks the server like `KEYS`.
    /// - maximum: keys returned at most (the scan stops there).
    public func keys(matching pattern: String, maximum: Int = 1 << 20) async throws -> [String] {
        var cursor = "0"
        var found: [String] = []
        repeat {
            let reply = try await send(RESPCommand("SCAN", cursor, "MATCH", pattern, "COUNT", "1000"))
            guard case .array(let parts) = reply, parts.count == 2, let next = parts[0].text, case .array(let keys) = parts[1] else {
                throw RESPError.unexpectedReply(command: "SCAN", reply: reply.summary)
            }
            for key in keys {
                guard let text = key.text else { throw RESPError.unexpectedReply(command: "SCAN", reply: key.summary) }
                found.append(text)
            }
            cursor = next
        } while cursor != "0" && found.count < maximum
        return Array(found.prefix(maximum))
    }

    /// `INFO section` parsed into its `field:value` lines.
    public func info(_ section: String = "default") async throws -> [String: String] {
        let reply = try await send(RESPCommand("INFO", section))
        guard let text = reply.text else { throw RESPError.unexpectedReply(command: "INFO", reply: reply.summary) }
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return fields
    }

    static func optionalBulk(_ reply: RESPValue, command: String) throws -> ByteBuffer? {
        switch reply {
        case .bulk(let buffer): return buffer
        case .null: return nil
        default: throw RESPError.unexpectedReply(command: command, reply: reply.summary)
        }
    }

    static func integer(_ reply: RESPValue, command: String) throws -> Int {
        guard case .integer(let value) = reply, let result = Int(exactly: value) else {
            throw RESPError.unexpectedReply(command: command, reply: reply.summary)
        }
        return result
    }
}
