import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// Every endpoint's success shape, on the embedded model.
@Suite(.serialized) struct RouteTests {
    @Test func healthAndModels() async throws {
        let harness = try ServerHarness()
        try await harness.test { client in
            let health = try await client.get("/health")
            #expect(health.status == .ok)
            #expect(try health.json()["status"] as? String == "ok")

            let models = try await client.get("/v1/models")
            #expect(models.status == .ok)
            let list = try models.json()
            #expect(list["object"] as? String == "list")
            let entry = try object(try array(list["data"]).first)
            #expect(entry["id"] as? String == ServerHarness.modelID)
            #expect(entry["object"] as? String == "model")

            let one = try await client.get("/v1/models/\(ServerHarness.modelID)")
            #expect(one.status == .ok)
            #expect(try one.json()["id"] as? String == ServerHarness.modelID)
        }
    }

    @Test func completionReportsUsageAndStopsAtMaxTokens() async throws {
        let harness = try ServerHarness()
        try await harness.test { client in
            let response = try await client.post("/v1/completions", json: """
                {"model": "books-5m", "prompt": "It is a truth universally acknowledged, that", "max_tokens": 7,
                 "temperature": 0, "stop": "\\u0000never", "some_unknown_field": {"ignored": true}}
                """)
            #expect(response.status == .ok)
            let body = try response.json()
            #expect(body["object"] as? String == "text_completion")
            #expect((body["id"] as? String)?.hasPrefix("cmpl-") == true)
            #expect(body["model"] as? String == ServerHarness.modelID)
            let choice = try object(try array(body["choices"]).first)
            #expect(choice["finish_reason"] as? String == "length")
            #expect(!(try #require(choice["text"] as? String)).isEmpty)
            #expect(choice["logprobs"] is NSNull)
            let usage = try object(body["usage"])
            #expect(try integer(usage["completion_tokens"]) == 7)
            let prompt = try integer(usage["prompt_tokens"])
            #expect(prompt > 5)
            #expect(try integer(usage["total_tokens"]) == prompt + 7)
            #expect(try integer(try object(usage["prompt_tokens_details"])["cached_tokens"]) >= 0)
            let reanchor = try object(usage["reanchor"])
            #expect(try number(reanchor["ttft_ms"]) > 0)
            #expect(reanchor["reused_tokens"] != nil && reanchor["recomputed_tokens"] != nil)
        }
    }

    @Test func greedyCompletionIsDeterministicAndTokenPromptsWork() async throws {
        let harness = try ServerHarness()
        try await harness.test { client in
            let request = #"{"model": "books-5m", "prompt": "The ship sailed", "max_tokens": 12, "temperature": 0}"#
            let first = try object(try array(try await client.post("/v1/completions", json: request).json()["choices"]).first)
            let second = try object(try array(try await client.post("/v1/completions", json: request).json()["choices"]).first)
            #expect(first["text"] as? String == second["text"] as? String)
            // The same prompt as token ids (BOS + the text's tokens) generates the same text.
            let ids = harness.scheduler.tokenizer.encode("The ship sailed", addSpecialTokens: true)
            let byIDs = try await client.post("/v1/completions", json: """
                {"model": "books-5m", "prompt": \(ids), "max_tokens": 12, "temperature": 0}
                """)
            #expect(byIDs.status == .ok)
            #expect(try object(try array(try byIDs.json()["choices"]).first)["text"] as? String == first["text"] as? String)
        }
    }

    @Test func chatCompletionAnswersAsAssistant() async throws {
        let harness = try ServerHarness()
        try await harness.test { client in
            let response = try await client.post("/v1/chat/completions", json: """
                {"model": "books-5m", "messages": [{"role": "system", "content": "You tell stories."},
                 {"role": "user", "content": [{"type": "text", "text": "Tell me about the sea."}]}],
                 "max_completion_tokens": 9, "temperature": 0.8, "top_p": 0.9, "seed": 7,
                 "frequency_penalty": 0.5, "presence_penalty": 0.5,
                 "reanchor": {"top_k": 40, "repetition_penalty": 1.1, "overflow": "reanchor"}}
                """)
            #expect(response.status == .ok)
            let body = try response.json()
            #expect(body["object"] as? String == "chat.completion")
            #expect((body["id"] as? String)?.hasPrefix("chatcmpl-") == true)
            let choice = try object(try array(body["choices"]).first)
            let message = try object(choice["message"])
            #expect(message["role"] as? String == "assistant")
            #expect(message["content"] is String)
            #expect(["stop", "length"].contains(choice["finish_reason"] as? String))
            #expect(try integer(try object(body["usage"])["completion_tokens"]) <= 9)
        }
    }

    @Test func continuedConversationReusesCachedTokens() async throws {
        let harness = try ServerHarness()
        try await harness.test { client in
            let first = """
                {"role": "system", "content": "You are a storyteller of the old sea."},
                {"role": "user", "content": "Tell me of the captain and his ship, and of the long voyage north."}
                """
            let opening = try await client.post("/v1/chat/completions", json: """
                {"model": "books-5m", "messages": [\(first)], "max_tokens": 8, "temperature": 0}
                """)
            let answer = try #require(try object(try object(try array(try opening.json()["choices"]).first)["message"])["content"] as? String)
            let continued = try await client.post("/v1/chat/completions", json: """
                {"model": "books-5m", "messages": [\(first), {"role": "assistant", "content": \(jsonString(answer))},
                 {"role": "user", "content": "And then?"}], "max_tokens": 8, "temperature": 0}
                """)
            #expect(continued.status == .ok)
            let usage = try object(try continued.json()["usage"])
            let cached = try integer(try object(usage["prompt_tokens_details"])["cached_tokens"])
            #expect(cached > 0, "the earlier turns' KV is reused")
            #expect(cached < (try integer(usage["prompt_tokens"])))
        }
    }

    @Test func metricsExposeRequestsTokensAndScheduler() async throws {
        let harness = try ServerHarness()
        try await harness.test { client in
            _ = try await client.post("/v1/completions", json: #"{"model": "books-5m", "prompt": "Once", "max_tokens": 4}"#)
            _ = try await client.post("/v1/completions", json: #"{"model": "nope", "prompt": "Once"}"#)
            let metrics = try await client.get("/metrics")
            #expect(metrics.status == .ok)
            #expect(metrics.headers[.contentType]?.hasPrefix("text/plain") == true)
            let text = String(buffer: metrics.body)
            #expect(text.contains(#"reanchor_requests_total{route="/v1/completions",status="200"} 1"#))
            #expect(text.contains(#"reanchor_requests_total{route="/v1/completions",status="404"} 1"#))
            #expect(text.contains("reanchor_time_to_first_token_seconds_count 1"))
            #expect(text.contains("reanchor_time_per_output_token_seconds_count 1"))
            #expect(text.contains("reanchor_generated_tokens_total 4"))
            for name in ["reanchor_prompt_tokens_total", "reanchor_cached_tokens_total", "reanchor_sequences_running",
                         "reanchor_sequences_queued", "reanchor_kv_bytes_in_use", "reanchor_kv_bytes_budget"] {
                #expect(text.contains(name), "\(name) is exposed")
            }
        }
    }
}

/// A JSON string literal.
func jsonString(_ text: String) -> String {
    String(decoding: (try? JSONSerialization.data(withJSONObject: [text], options: [.fragmentsAllowed])) ?? Data("[\"\"]".utf8),
           as: UTF8.self).dropFirst().dropLast().description
}
