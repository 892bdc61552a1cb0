import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `reanchor serve` run as a child process of this binary, for `bench serve` without `--url`: the server
/// then runs exactly as a user runs it, in its own process like the servers it is compared with, so its
/// resident memory is its own (read from /proc) and the load generator's threads are not in it.
final class ServerProcess {
    let process = Process()
    /// Where the server's standard error (its request log) goes.
    let logURL: URL
    /// `http://127.0.0.1:PORT`, once it listens.
    private(set) var url = ""

    /// - arguments: after `serve` (the model options); `--host 127.0.0.1 --port 0` are added.
    init(arguments: [String]) {
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", "0"] + arguments
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent("reanchor-bench-serve-\(getpid()).log")
    }

    var pid: Int32 { process.processIdentifier }

    /// Starts the server and waits (up to `timeout` seconds: loading a model takes a while) for the
    /// `listening on http://ADDRESS` line it prints.
    func start(timeout: Double) throws {
        FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        let output = Pipe()
        process.standardOutput = output
        process.standardError = log
        try process.run()
        let reader = output.fileHandleForReading
        let deadline = Date().addingTimeInterval(timeout)
        var text = ""
        while Date() < deadline {
            guard process.isRunning else { break }
            var pollRecord = pollfd(fd: reader.fileDescriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&pollRecord, 1, 200) > 0 else { continue }
            let data = reader.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("listening on http://") }) {
                url = String(line.dropFirst("listening on ".count))
                // The server writes a few more lines (on stop); keep its pipe drained.
                reader.readabilityHandler = { handle in _ = handle.availableData }
                return
            }
        }
        stop()
        let tail = (try? String(contentsOf: logURL, encoding: .utf8)).map { String($0.suffix(2000)) } ?? ""
        throw OptionError("reanchor serve did not start listening within \(Int(timeout)) s (log \(logURL.path)):\n\(text)\(tail)")
    }

    /// SIGTERM (graceful shutdown), then SIGKILL after 30 s; returns the exit status.
    @discardableResult
    func stop() -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        process.terminate()
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning, Date() < deadline { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
