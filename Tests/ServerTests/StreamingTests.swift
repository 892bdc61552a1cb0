import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// Server-sent events and log probabilities in OpenAI's shapes.
@Suite(.serialized) struct StreamingTests {
    @Test func chatStreamMatchesTheWholeAnswer() async throws {
        let harness = try ServerHarness()
        try await harness.test { client in
            let messages = #"[{"role": "user", "content": "Where did the ship go?"}]"#
            let whole = try await client.post("/v1/chat/completions", json: """
                {"model": "books-5m", "messages": \(messages), "max_tokens": 10, "temperature": 0}
                """)
            let expected = try object(try object(try array(try whole.json()["choices"]).first)["message"])["content"] as? String

            let streamed = try await client.post("/v1/chat/completions", json: """
                {"model": "books-5m", "messages": \(messages), "max_tokens": 10, "temperature": 0, "stream": true,
                 "stream_options": {"include_usage": true}}
                """)
            #expect(streamed.status == .ok)
            #expect(streamed.headers[.contentType] == "text/event-stream")
            let events = try streamed.events()
            #expect(events.last == "[DONE]")
            let chunks = try events.dropLast().map(parse)
            #expect(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
            #expect(Set(chunks.compactMap { $0["id"] as? String }).count == 1, "one id for the whole stream")
            let firstDelta = try object(try object(try array(chunks[0]["choices"]).first)["delta"])
            #expect(firstDelta["role"] as? String == "assistant")
            // Every chunk but the last carries usage: null; the last has no choices and the usage.
            let usageChunk = try #require(chunks.last)
            #expect(try array(usageChunk["choices"]).isEmpty)
            #expect(try integer(try object(usageChunk["usage"])["completion_tokens"]) == 10)
            #expect(chunks.dropLast().allSatisfy { $0["usage"] is NSNull })
            var text = ""
            var finishReasons: [String] = []
            for chunk in chunks.dropLast() {
                let choice = try object(try array(chunk["choices"]).first)
                text += try object(choice["delta"])["content"] as? String ?? ""
                if let reason = choice["finish_reason"] as? String { finishReasons.append(reason) }
            }
            #expect(text == expected)
            #expect(finishReasons == ["length"], "one finish reason, on the last choice chunk")
        }
    }

    @Test func completionStreamWithoutUsage() async throws {
        let harness = try ServerHarness()
        try await harness.test { client in
            let response = try await client.post("/v1/completions", json: """
                {"model": "books-5m", "prompt": "The old man", "max_tokens": 6, "temperature": 0, "stream": true}
                """)
            let events = try response.events()
            #expect(events.last == "[DONE]")
            let chunks = try events.dropLast().map(parse)
            #expect(chunks.allSatisfy { $0["object"] as? String == "text_completion" && $0["usage"] == nil })
            let last = try object(try array(try #require(chunks.last)["choices"]).first)
            #expect(last["finish_reason"] as? String == "length")
        }
    }

    @Test func chatLogprobsShape() async throws {
        let harness = try ServerHarness()
        try await harness.test { client in
            let response = try await client.post("/v1/chat/completions", json: """
                {"model": "books-5m", "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 5,
                 "temperature": 0, "logprobs": true, "top_logprobs": 3}
                """)
            #expect(response.status == .ok)
            let choice = try object(try array(try response.json()["choices"]).first)
            let content = try array(try object(choice["logprobs"])["content"])
            #expect(content.count == 5)
            for entry in content.map({ try? object($0) }) {
                let entry = try #require(entry)
                let token = try #require(entry["token"] as? String)
                let logprob = try number(entry["logprob"])
                #expect(logprob <= 0)
                let bytes = try array(entry["bytes"]).map { try integer($0) }
                #expect(bytes.allSatisfy { (0...255).contains($0) })
                if let decoded = String(bytes: bytes.map(UInt8.init), encoding: .utf8) { #expect(decoded == token) }
                let top = try array(entry["top_logprobs"]).map { try object($0) }
                #expect(top.count == 3)
                let topLogprobs = try top.map { try number($0["logprob"]) }
                #expect(topLogprobs == topLogprobs.sorted(by: >), "alternatives best first")
                // Greedy: the chosen token is the most likely one.
                #expect(top[0]["token"] as? String == token)
                #expect(abs(topLogprobs[0] - logprob) < 1e-4)
            }
        }
    }

    @Test func legacyLogprobsShape() async throws {
        let harness = try ServerHarness()
        try await harness.test { client in
            let response = try await client.post("/v1/completions", json: """
                {"model": "books-5m", "prompt": "She said", "max_tokens": 6, "temperature": 0, "logprobs": 2}
                """)
            #expect(response.status == .ok)
            let choice = try object(try array(try response.json()["choices"]).first)
            let logprobs = try object(choice["logprobs"])
            let tokens = try array(logprobs["tokens"]).compactMap { $0 as? String }
            let tokenLogprobs = try array(logprobs["token_logprobs"]).map { try number($0) }
            let top = try array(logprobs["top_logprobs"]).map { try object($0) }
            let offsets = try array(logprobs["text_offset"]).map { try integer($0) }
            #expect(tokens.count == 6 && tokenLogprobs.count == 6 && top.count == 6 && offsets.count == 6)
            #expect(tokenLogprobs.allSatisfy { $0 <= 0 })
            #expect(top.allSatisfy { (1...2).contains($0.count) })
            var expectedOffset = 0
            for (token, offset) in zip(tokens, offsets) {
                #expect(offset == expectedOffset)
                expectedOffset += token.unicodeScalars.count
            }
            #expect(tokens.joined() == choice["text"] as? String)
        }
    }

    @Test func streamedLogprobsArriveWithTheirTokens() async throws {
        let harness = try ServerHarness()
        try await harness.test { client in
            let response = try await client.post("/v1/completions", json: """
                {"model": "books-5m", "prompt": "She said", "max_tokens": 4, "temperature": 0, "logprobs": 1, "stream": true}
                """)
            let chunks = try response.events().dropLast().map(parse)
            let tokenChunks = try chunks.map { try object(try array($0["choices"]).first) }.filter { !($0["logprobs"] is NSNull) }
            #expect(tokenChunks.count == 4)
            let offsets = try tokenChunks.map { try integer(try array(try object($0["logprobs"])["text_offset"]).first) }
            #expect(offsets == offsets.sorted() && offsets.first == 0, "text offsets keep counting across chunks")
        }
    }
}
