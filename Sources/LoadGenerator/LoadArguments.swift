import Foundation

/// A bad command-line value of `bench serve`, naming the flag.
public struct LoadArgumentError: Error, CustomStringConvertible, Equatable {
    public let flag: String
    public let reason: String

    public init(_ flag: String, _ reason: String) {
        self.flag = flag
        self.reason = reason
    }

    public var description: String { "\(flag): \(reason)" }
}

/// Checks and parses the values of `bench serve` before any request is sent.
public enum LoadArguments {
    /// The most requests in flight at once.
    public static let maximumConcurrency = 1024

    /// `--concurrency 1,4,8`: distinct integers in [1, `maximumConcurrency`], in the order given.
    public static func concurrencies(_ text: String) throws -> [Int] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        var values: [Int] = []
        for part in parts {
            guard let value = Int(part), (1...maximumConcurrency).contains(value) else {
                throw LoadArgumentError("--concurrency", "'\(part)' is not an integer in [1, \(maximumConcurrency)]")
            }
            guard !values.contains(value) else { throw LoadArgumentError("--concurrency", "\(value) is listed twice") }
            values.append(value)
        }
        return values
    }

    /// `--url [NAME=]URL` (repeatable) and `--server-pid [NAME=]PID` (repeatable; a bare PID needs exactly one
    /// URL). URLs are http(s) with a host; names default to `host:port` and must be distinct.
    public static func targets(urls: [String], pids: [String]) throws -> [LoadTarget] {
        var targets: [LoadTarget] = []
        for spec in urls {
            let (name, address) = split(spec, nameMayHoldColon: false)
            guard let components = URLComponents(string: address), let scheme = components.scheme?.lowercased(),
                  scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty,
                  components.path.isEmpty || components.path == "/", components.query == nil else {
                throw LoadArgumentError("--url", "'\(address)' is not an http(s)://host[:port] address of a server")
            }
            let label = name ?? (components.port.map { "\(host):\($0)" } ?? host)
            guard !label.isEmpty else { throw LoadArgumentError("--url", "'\(spec)' has an empty name before '='") }
            guard !targets.contains(where: { $0.name == label }) else {
                throw LoadArgumentError("--url", "two servers are named '\(label)': name them NAME=URL")
            }
            targets.append(LoadTarget(name: label, url: address))
        }
        for spec in pids {
            let (name, text) = split(spec, nameMayHoldColon: true)
            guard let pid = Int32(text), pid > 0 else { throw LoadArgumentError("--server-pid", "'\(text)' is not a process id") }
            let index: Int
            if let name {
                guard let found = targets.firstIndex(where: { $0.name == name }) else {
                    throw LoadArgumentError("--server-pid", "no --url is named '\(name)' (names: \(targets.map(\.name).joined(separator: ", ")))")
                }
                index = found
            } else {
                guard targets.count == 1 else { throw LoadArgumentError("--server-pid", "'\(spec)' needs NAME=PID with several --url") }
                index = 0
            }
            guard targets[index].server_pid == nil else { throw LoadArgumentError("--server-pid", "'\(targets[index].name)' is given twice") }
            targets[index].server_pid = pid
        }
        return targets
    }

    /// The lengths and counts of a run, each in its range.
    public static func check(promptTokens: Int, maxTokens: Int, rounds: Int, repeats: Int, vocabularySize: Int) throws {
        guard (1...1_000_000).contains(promptTokens) else { throw LoadArgumentError("--prompt-tokens", "must be in [1, 1000000], found \(promptTokens)") }
        guard (2...1_000_000).contains(maxTokens) else { throw LoadArgumentError("--max-tokens", "must be in [2, 1000000], found \(maxTokens)") }
        guard (1...1000).contains(rounds) else { throw LoadArgumentError("--rounds", "must be in [1, 1000], found \(rounds)") }
        guard (1...100).contains(repeats) else { throw LoadArgumentError("--repeats", "must be in [1, 100], found \(repeats)") }
        guard vocabularySize > LoadRequestShape.firstPromptID else {
            throw LoadArgumentError("--vocab-size", "must be above \(LoadRequestShape.firstPromptID) (prompt ids start there), found \(vocabularySize)")
        }
    }

    /// `NAME=VALUE` or `VALUE`. For URLs a name holds no ':' (so `http://h/?a=b` is a value, not a name); a
    /// pid's name may (the default name of a URL is `host:port`).
    private static func split(_ spec: String, nameMayHoldColon: Bool) -> (String?, String) {
        guard let equals = spec.firstIndex(of: "="), nameMayHoldColon || !spec[..<equals].contains(":") else { return (nil, spec) }
        return (String(spec[..<equals]), String(spec[spec.index(after: equals)...]))
    }
}
