import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A `redis-server` process of our own on a free loopback port, in a temporary directory, with no
/// persistence: what the tests and `bench remote` run against. Stop, kill, pause and restart it to make
/// the faults a real deployment sees.
public final class LocalRedisServer: @unchecked Sendable {  // mutable state only from the owning test/bench task
    public enum Failure: Error, CustomStringConvertible {
        case notInstalled
        case didNotStart(String)
        public var description: String {
            switch self {
            case .notInstalled: return "redis-server is not installed (apt-get install redis-server)"
            case .didNotStart(let reason): return "redis-server did not start: \(reason)"
            }
        }
    }

    /// The redis-server executable, or nil when it is not installed.
    public static let executable: String? = ["/usr/bin/redis-server", "/usr/local/bin/redis-server", "/usr/sbin/redis-server"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    public private(set) var port: Int
    public let directory: URL
    /// Extra `redis-server` arguments (e.g. `["--maxmemory", "2mb", "--maxmemory-policy", "allkeys-lru"]`).
    public let arguments: [String]
    private var process: Process?

    /// Starts a server and waits until it accepts connections.
    /// - Throws: `Failure.notInstalled`, `didNotStart` with the log's tail.
    public init(arguments: [String] = []) throws {
        guard Self.executable != nil else { throw Failure.notInstalled }
        port = try Self.freePort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("reanchor-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.arguments = arguments
        // Another process may take the port between our probe and the server's bind (tests of several suites
        // run at once): then the server exits, and we try another port.
        for attempt in 1...8 {
            do {
                try start()
                return
            } catch Failure.didNotStart(let reason) where reason.contains("Address already in use") && attempt < 8 {
                port = try Self.freePort()
            }
        }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// `redis://127.0.0.1:<port>/<database>`.
    public func url(database: Int = 0, password: String? = nil) throws -> RedisURL {
        try RedisURL("redis://\(password.map { ":\($0)@" } ?? "")127.0.0.1:\(port)/\(database)")
    }

    public var isRunning: Bool { process?.isRunning ?? false }

    /// Starts the server (again) on the same port.
    public func start() throws {
        guard let executable = Self.executable else { throw Failure.notInstalled }
        stop()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["--port", String(port), "--bind", "127.0.0.1", "--dir", directory.path, "--save", "",
                             "--appendonly", "no", "--daemonize", "no", "--protected-mode", "no",
                             "--logfile", directory.appendingPathComponent("redis.log").path] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let logURL = directory.appendingPathComponent("redis.log")
        try? FileManager.default.removeItem(at: logURL)
        try process.run()
        self.process = process
        // Ready when our own server says so in its own log and accepts connections: a listener of another
        // process on the same port is not mistaken for ours.
        for _ in 0..<500 {
            let log = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
            if log.contains("Ready to accept connections"), process.isRunning, Self.accepts(port: port) { return }
            guard process.isRunning else { break }
            usleep(20_000)
        }
        let log = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
        stop()
        throw Failure.didNotStart(String(log.suffix(500)))
    }

    /// Kills the server (SIGKILL, as a crash: it keeps nothing on disk anyway) and waits for it to exit.
    /// Not SIGTERM: a child inherits its parent's blocked signals, and a test runner may block SIGTERM.
    public func stop() {
        guard let process, process.isRunning else {
            self.process = nil
            return
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    /// Freezes the server (SIGSTOP): connections stay open but nothing answers, as a server that hangs.
    public func pause() {
        if let process, process.isRunning { kill(process.processIdentifier, SIGSTOP) }
    }

    public func resume() {
        if let process, process.isRunning { kill(process.processIdentifier, SIGCONT) }
    }

    /// A loopback port nothing listens on now (the kernel's choice for port 0).
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure.didNotStart("socket: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw Failure.didNotStart("bind: \(String(cString: strerror(errno)))") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else { throw Failure.didNotStart("getsockname: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func accepts(port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(truncatingIfNeeded: port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return address
    }
}
