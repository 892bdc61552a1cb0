import ArgumentParser
import Documents
import Foundation
import RESP

/// `reanchor library ...`: the operator's view of a document library (disk directory and shared Redis).
struct LibraryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "library",
        abstract: "Inspect, verify, evict and clear a document library (disk and remote tiers).",
        subcommands: [LibraryStatsCommand.self, LibraryListCommand.self, LibraryVerifyCommand.self, LibraryEvictCommand.self,
                      LibraryClearCommand.self])
}

/// Where the library is and whose entries to look at.
struct LibraryLocation: ParsableArguments {
    @Option(help: "Directory of the disk tier.") var library: String?
    @Option(help: "The shared remote tier, redis://[user:password@]host:port/db.") var remote: String?
    @Option(help: "Only this tenant's entries (default: every namespace).") var tenant: String?
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard library != nil || remote != nil else { throw ValidationError("give --library DIR, --remote URL or both") }
        if let library, library.allSatisfy(\.isWhitespace) { throw ValidationError("--library is empty: give a directory path") }
    }

    func namespace() throws -> Namespace? { try tenant.map { try Namespace.tenant(id: $0) } }

    func client() throws -> RedisClient? {
        try remote.map { RedisClient(url: try RedisURL($0), options: RemoteTier.clientOptions(RedisClientOptions(), limits: .standard)) }
    }

    /// Disk and remote inspections (nil for a tier not given).
    func inspect(verify: Bool) async throws -> (disk: InspectionResult?, remote: InspectionResult?) {
        let namespace = try namespace()
        let disk = try library.map { try LibraryInspection.disk(path: $0, namespace: namespace, verify: verify) }
        var remote: InspectionResult? = nil
        if let client = try client() { remote = try await LibraryInspection.remote(client, namespace: namespace, verify: verify) }
        return (disk, remote)
    }
}

/// Counts of one tier, as `stats` prints them.
struct TierSummary: Codable {
    var entries: Int
    var bytes: Int
    var tokens: Int
    var corrupt: Int
    var oldest: String?
    var newest: String?

    init(_ result: InspectionResult) {
        entries = result.entries.count
        bytes = result.entries.reduce(0) { $0 + $1.bytes }
        tokens = result.entries.reduce(0) { $0 + $1.tokens }
        corrupt = result.corrupt.count
        let dates = result.entries.map(\.created).sorted()
        oldest = dates.first.map(Self.time)
        newest = dates.last.map(Self.time)
    }

    static func time(_ seconds: Double) -> String { ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: seconds)) }

    var line: String {
        "\(entries) entries, \(bytes) bytes, \(tokens) tokens, \(corrupt) corrupt; oldest \(oldest ?? "-"), newest \(newest ?? "-")"
    }
}

struct LibraryStatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Entries, bytes, corrupt entries, oldest/newest per tier; the server's hit/miss counters.")
    @OptionGroup var location: LibraryLocation

    struct Report: Codable {
        var disk: TierSummary?
        var remote: TierSummary?
        /// The Redis server's own counters (all clients): keyspace_hits, keyspace_misses, evicted_keys, used_memory, maxmemory.
        var server: [String: Int]?
    }

    func run() async throws {
        let (disk, remote) = try await location.inspect(verify: false)
        var server: [String: Int]? = nil
        if let client = try location.client() {
            let info = try await client.info("all")
            server = Dictionary(uniqueKeysWithValues: ["keyspace_hits", "keyspace_misses", "evicted_keys", "expired_keys", "used_memory", "maxmemory"]
                .compactMap { name in info[name].flatMap(Int.init).map { (name, $0) } })
        }
        let report = Report(disk: disk.map(TierSummary.init), remote: remote.map(TierSummary.init), server: server)
        if location.json { return try printJSON(report) }
        if let disk = report.disk { say("disk:   " + disk.line) }
        if let remote = report.remote { say("remote: " + remote.line) }
        if let server = report.server {
            say("server: " + server.keys.sorted().map { "\($0) \(server[$0] ?? 0)" }.joined(separator: ", "))
        }
    }
}

struct LibraryListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Every entry: tier, key, namespace, tokens, bytes, created.")
    @OptionGroup var location: LibraryLocation

    func run() async throws {
        let (disk, remote) = try await location.inspect(verify: false)
        let entries = (disk?.entries ?? []) + (remote?.entries ?? [])
        if location.json { return try printJSON(entries) }
        for entry in entries {
            say("\(entry.tier.padding(toLength: 7, withPad: " ", startingAt: 0)) \(entry.key.prefix(16)) \(entry.namespace) "
                + "\(entry.tokens) tokens \(entry.bytes) bytes \(TierSummary.time(entry.created))")
        }
        for bad in (disk?.corrupt ?? []) + (remote?.corrupt ?? []) { say("corrupt " + bad) }
    }
}

struct LibraryVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify", abstract: "Re-check every entry's checksum and key; remove what fails.")
    @OptionGroup var location: LibraryLocation

    struct Report: Codable {
        var verified: Int
        var removed: [String]
    }

    func run() async throws {
        let (disk, remote) = try await location.inspect(verify: true)
        let report = Report(verified: (disk?.entries.count ?? 0) + (remote?.entries.count ?? 0),
                            removed: (disk?.corrupt ?? []) + (remote?.corrupt ?? []))
        if location.json { return try printJSON(report) }
        say("\(report.verified) entries verified, \(report.removed.count) corrupt removed")
        for bad in report.removed { say("removed " + bad) }
    }
}

struct LibraryEvictCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "evict", abstract: "Remove the oldest disk entries down to --max-bytes (Redis evicts by its own maxmemory policy).")
    @OptionGroup var location: LibraryLocation
    @Option(help: "Bytes of disk entries to keep at most.") var maxBytes: Int

    func validate() throws {
        guard maxBytes >= 0 else { throw ValidationError("--max-bytes must be >= 0, found \(maxBytes)") }
        guard location.library != nil else { throw ValidationError("evict applies to the disk tier: give --library DIR") }
    }

    func run() async throws {
        let removed = try LibraryInspection.evict(path: location.library ?? "", maximumBytes: maxBytes)
        if location.json { return try printJSON(removed) }
        say("\(removed.count) entries removed, \(removed.reduce(0) { $0 + $1.bytes }) bytes")
    }
}

struct LibraryClearCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "clear", abstract: "Remove every entry (of --tenant, when given) from the tiers given.")
    @OptionGroup var location: LibraryLocation

    struct Report: Codable {
        var disk_removed: Int
        var remote_removed: Int
    }

    func run() async throws {
        let namespace = try location.namespace()
        var diskRemoved = 0
        if let library = location.library {
            for entry in try LibraryInspection.disk(path: library, namespace: namespace, verify: false).entries
            where unlink(entry.location) == 0 { diskRemoved += 1 }
        }
        var remoteRemoved = 0
        if let client = try location.client() { remoteRemoved = try await LibraryInspection.clearRemote(client, namespace: namespace) }
        let report = Report(disk_removed: diskRemoved, remote_removed: remoteRemoved)
        if location.json { return try printJSON(report) }
        say("removed \(diskRemoved) disk entries, \(remoteRemoved) remote entries")
    }
}
