import Foundation
import Hummingbird
import HummingbirdTesting
import LoadGenerator
import NIOCore
import Testing

/// The server over real HTTP on a loopback port: a non-streamed completion whose client disconnects is
/// cancelled and frees its KV, and the load generator of `bench serve` reads every token of real streams.
@Suite struct LiveServerTests {
    @Test(.timeLimit(.minutes(3)))
    func aNonStreamedCompletionIsCancelledWhenItsClientDisconnects() async throws {
        let harness = try ServerHarness(maxSequences: 2)
        let scheduler = harness.scheduler
        // Long enough that only cancellation ends it: at ~1000 tokens in well under a second (the embedded
        // model decodes fast), the job could finish before the server saw the connection close.
        let maxTokens = 20000
        try await harness.live { client in
            let port = try #require(client.port)
            let raw = TestClient(host: "127.0.0.1", port: port)
            raw.connect()
            let body = #"{"model":"books-5m","prompt":"Once upon a time","max_tokens":\#(maxTokens),"temperature":0,"reanchor":{"ignore_eos":true}}"#
            try await raw.executeAndDontWaitForResponse(.init("/v1/completions", method: .post, headers: [.contentType: "application/json"],
                                                              body: ByteBuffer(string: body)))
            // Close at once (the job may not even have started): the server must notice and answer nobody with 499.
            // Waiting for the job to generate first made the test depend on the cooperative pool, which the
            // parallel suite starves for seconds while the scheduler's own thread generates the tokens.
            try await raw.shutdown()
            try await Self.wait("the request to be counted as closed by its client") {
                let metrics = try await client.get("/metrics")
                return String(buffer: metrics.body).split(separator: "\n").contains { line in
                    line.hasPrefix("reanchor_requests_total") && line.contains(#"status="499""#) && line.hasSuffix(" 1")
                }
            }
            try await Self.wait("the sequence to be cancelled") { scheduler.snapshot.running == 0 && scheduler.snapshot.queued == 0 }
            let snapshot = scheduler.snapshot
            // A completion that ran to its end would have parked its KV for the tenant's next turn; a cancelled
            // one frees it at once.
            #expect(snapshot.kvBytesInUse == 0, "KV still held: \(snapshot)")
            #expect(snapshot.generatedTokens < maxTokens, "the completion ran to its end: \(snapshot)")
            // The server still answers on a new connection.
            let health = try await client.get("/health")
            #expect(health.status == .ok)
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func theLoadGeneratorReadsEveryTokenOfRealStreams() async throws {
        let harness = try ServerHarness(maxSequences: 3)
        let figures = try await harness.live { client in
            let port = try #require(client.port)
            let shape = LoadRequestShape(promptTokens: 8, maxTokens: 6, vocabularySize: 4096)
            let run = LoadRun(targets: [LoadTarget(name: "reanchor", url: "http://127.0.0.1:\(port)")], shape: shape,
                              concurrencies: [1, 3], rounds: 2, repeats: 1, timeout: .seconds(120))
            return try await run.run()
        }
        #expect(figures.map(\.concurrency) == [1, 3])
        for level in figures {
            #expect(level.errors == 0, "\(level.error_samples)")
            #expect(level.requests == 2 * level.concurrency && level.requests_with_usage == level.requests)
            // ignore_eos: every request generates max_tokens.
            #expect(level.completion_tokens == 6 * level.requests)
            #expect(level.aggregate_decode_tok_s_rounds.count == 2)
            #expect((level.ttft_p50_s ?? 0) > 0 && (level.tpot_p50_s ?? 0) > 0)
        }
    }

    /// Polls `condition` every 20 ms for up to 120 s.
    static func wait(_ what: String, _ condition: @Sendable () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(120)
        while try await !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out waiting for \(what)")
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
