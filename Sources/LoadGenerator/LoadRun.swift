import AsyncHTTPClient
import Foundation
import NIOCore

/// A server under test: a name for the report, its base URL, and its process when known (for RSS).
public struct LoadTarget: Sendable, Equatable, Codable {
    public var name: String
    public var url: String
    public var server_pid: Int32?

    public init(name: String, url: String, serverPID: Int32? = nil) {
        self.name = name
        self.url = url
        server_pid = serverPID
    }
}

/// Where a load run is, for a progress display.
public struct LoadProgress: Sendable {
    public var target: String
    public var concurrency: Int
    public var repeatIndex: Int
    public var repeats: Int
    public var round: Int
    public var rounds: Int
    /// Requests of the current level finished, out of `total`.
    public var finished: Int
    public var total: Int
}

/// Drives one or more OpenAI-compatible servers over HTTP: for every repeat, every concurrency and every
/// target in turn (interleaved, the targets' order reversed every other repeat, so that load from other
/// processes falls on all of them alike), `rounds`
/// rounds of `concurrency` streamed requests sent at once.
public struct LoadRun: Sendable {
    public var targets: [LoadTarget]
    public var shape: LoadRequestShape
    public var concurrencies: [Int]
    public var rounds: Int
    public var repeats: Int
    public var timeout: TimeAmount

    public init(targets: [LoadTarget], shape: LoadRequestShape, concurrencies: [Int], rounds: Int, repeats: Int,
                timeout: TimeAmount = .seconds(600)) {
        self.targets = targets
        self.shape = shape
        self.concurrencies = concurrencies
        self.rounds = rounds
        self.repeats = repeats
        self.timeout = timeout
    }

    /// Runs every level; `progress` is called as requests finish. Throws only when a server cannot be
    /// reached to learn its model (errors of requests are counted in the figures).
    public func run(progress: @escaping @Sendable (LoadProgress) -> Void = { _ in }) async throws -> [LevelFigures] {
        let widest = concurrencies.max() ?? 1
        var configuration = HTTPClient.Configuration()
        // Requests close their connections (see `CompletionClient.stream`); the pool only bounds them.
        configuration.connectionPool = .init(idleTimeout: .seconds(1), concurrentHTTP1ConnectionsPerHostSoftLimit: max(widest, 8))
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let figures = try await levels(http: http, progress: progress)
            try await http.shutdown()
            return figures
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    private func levels(http: HTTPClient, progress: @escaping @Sendable (LoadProgress) -> Void) async throws -> [LevelFigures] {
        var clients: [(LoadTarget, CompletionClient, String)] = []
        for target in targets {
            let client = CompletionClient(http: http, baseURL: target.url, timeout: timeout)
            clients.append((target, client, try await client.modelID()))
        }
        var counter = RequestCounter()
        // Warm-up: every server pages in its weights and sizes its buffers at the widest batch.
        for (_, client, model) in clients {
            _ = await round(client: client, model: model, width: concurrencies.max() ?? 1, counter: &counter, maxTokens: 2) { }
        }
        var figures: [LevelFigures] = []
        for repeatIndex in 1...repeats {
            for concurrency in concurrencies {
                // The order of the targets alternates between repeats: neither always runs first.
                for (target, client, model) in repeatIndex % 2 == 1 ? clients : clients.reversed() {
                    figures.append(try await level(target: target, client: client, model: model, concurrency: concurrency,
                                                   repeatIndex: repeatIndex, counter: &counter, progress: progress))
                }
            }
        }
        return figures
    }

    private func level(target: LoadTarget, client: CompletionClient, model: String, concurrency: Int, repeatIndex: Int,
                       counter: inout RequestCounter, progress: @escaping @Sendable (LoadProgress) -> Void) async throws -> LevelFigures {
        let sampler = target.server_pid.map { MemorySampler(pid: $0) }
        var results: [[StreamTiming]] = []
        let finished = FinishedCount()
        for roundIndex in 1...rounds {
            let report = { @Sendable in
                progress(LoadProgress(target: target.name, concurrency: concurrency, repeatIndex: repeatIndex, repeats: repeats,
                                      round: roundIndex, rounds: rounds, finished: finished.increment(), total: rounds * concurrency))
            }
            results.append(await round(client: client, model: model, width: concurrency, counter: &counter, maxTokens: nil, finished: report))
        }
        let rssMax = await sampler?.stop()
        let peak = target.server_pid.flatMap { ProcessMemory.read(pid: $0)?.peakResidentBytes }
        return LevelFigures(target: target.name, concurrency: concurrency, repeatIndex: repeatIndex, rounds: results,
                            serverRSSMax: rssMax, serverRSSPeak: peak)
    }

    /// `width` requests sent at once; returns when all have ended.
    private func round(client: CompletionClient, model: String, width: Int, counter: inout RequestCounter, maxTokens: Int?,
                       finished: @escaping @Sendable () -> Void) async -> [StreamTiming] {
        let bodies = (0..<width).map { _ in shape.body(model: model, request: counter.next(), maxTokens: maxTokens) }
        let path = shape.path
        return await withTaskGroup(of: StreamTiming.self) { group in
            for body in bodies {
                group.addTask {
                    let timing = await client.stream(path: path, body: body)
                    finished()
                    return timing
                }
            }
            var timings: [StreamTiming] = []
            for await timing in group { timings.append(timing) }
            return timings
        }
    }
}

/// Numbers requests across a whole run, so that no two requests share a prompt.
struct RequestCounter {
    private var value = 0
    mutating func next() -> Int {
        defer { value += 1 }
        return value
    }
}

/// Requests finished in a level (shared by the request tasks).
final class FinishedCount: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func increment() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}

/// Samples a process's resident set every 100 ms until stopped; returns the largest seen.
final class MemorySampler: Sendable {
    private let task: Task<Int?, Never>

    init(pid: Int32) {
        task = Task.detached {
            var largest: Int?
            while !Task.isCancelled {
                if let memory = ProcessMemory.read(pid: pid) { largest = max(largest ?? 0, memory.residentBytes) }
                try? await Task.sleep(for: .milliseconds(100))
            }
            return largest
        }
    }

    func stop() async -> Int? {
        task.cancel()
        return await task.value
    }
}
