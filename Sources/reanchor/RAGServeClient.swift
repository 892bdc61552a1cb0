import Foundation
import LoadGenerator

/// One chat completion as `bench rag-serve` sees it: what the server reported in `usage` and the wall time.
struct ServedAnswer: Sendable {
    var promptTokens: Int
    var completionTokens: Int
    var cachedTokens: Int
    var recomputedTokens: Int
    /// The server's time to first token (`usage.reanchor.ttft_ms`), in seconds.
    var timeToFirstToken: Double
    var seconds: Double
}

/// A plain OpenAI client for the benchmark: non-streamed chat completions over loopback HTTP, on SwiftNIO
/// (`CompletionClient`), so that waiting for an answer costs the server's cores nothing (URLSession's libcurl
/// timers woke four threads thousands of times a second and took 30-40% of the 2 vCPUs from the server).
struct RAGServeClient: Sendable {
    let client: CompletionClient
    let model: String

    /// Posts one chat (`messages` as role/content pairs) with greedy decoding of `maxTokens`, in reuse `mode`.
    func chat(_ messages: [(role: String, content: String)], maxTokens: Int, mode: String) async throws -> ServedAnswer {
        let body: [String: Any] = [
            "model": model, "max_tokens": maxTokens, "temperature": 0,
            "messages": messages.map { ["role": $0.role, "content": $0.content] },
            "reanchor": ["reuse": ["mode": mode]],
        ]
        let started = Date()
        let (status, data) = try await client.post(path: "/v1/chat/completions", body: try JSONSerialization.data(withJSONObject: body))
        let seconds = Date().timeIntervalSince(started)
        guard status == 200,
              let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let usage = object["usage"] as? [String: Any],
              let details = usage["prompt_tokens_details"] as? [String: Any],
              let extra = usage["reanchor"] as? [String: Any] else {
            throw OptionError("the server answered \(status): \(String(decoding: data.prefix(300), as: UTF8.self))")
        }
        func int(_ value: Any?) -> Int { (value as? NSNumber)?.intValue ?? 0 }
        return ServedAnswer(promptTokens: int(usage["prompt_tokens"]), completionTokens: int(usage["completion_tokens"]),
                            cachedTokens: int(details["cached_tokens"]), recomputedTokens: int(extra["recomputed_tokens"]),
                            timeToFirstToken: ((extra["ttft_ms"] as? NSNumber)?.doubleValue ?? 0) / 1000, seconds: seconds)
    }
}
