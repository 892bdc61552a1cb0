import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

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

/// A plain OpenAI client for the benchmark: non-streamed chat completions over loopback HTTP.
struct RAGServeClient: Sendable {
    let base: URL
    let model: String

    /// Posts one chat (`messages` as role/content pairs) with greedy decoding of `maxTokens`, in reuse `mode`.
    func chat(_ messages: [(role: String, content: String)], maxTokens: Int, mode: String) async throws -> ServedAnswer {
        var request = URLRequest(url: base.appendingPathComponent("v1/chat/completions"))
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let body: [String: Any] = [
            "model": model, "max_tokens": maxTokens, "temperature": 0,
            "messages": messages.map { ["role": $0.role, "content": $0.content] },
            "reanchor": ["reuse": ["mode": mode]],
        ]
        request.httpBody = try JSONSerialization.data(withJSONObject: body)
        request.timeoutInterval = 600
        let started = Date()
        let (data, response) = try await URLSession.shared.data(for: request)
        let seconds = Date().timeIntervalSince(started)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
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
