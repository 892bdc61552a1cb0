import Documents
import Engine
import Foundation
import Hummingbird
import HummingbirdTesting
import Server
import Testing

/// Reuse of library chunks by completions: `reanchor.documents`, transparent reuse of pasted passages, the
/// `reanchor.reuse` modes, and tenants that never share private chunks.
@Suite(.serialized) struct ReuseRouteTests {
    static let passages = [
        "The lighthouse keeper climbed the narrow stairs every evening, lit the great lamp, and watched the ships pass the rocks until dawn.",
        "In the village below, the baker rose before the sun, kneaded the dough by candlelight, and sold warm bread to the fishermen.",
        "Far inland, a young scholar copied old maps by hand, tracing rivers and roads that no traveller had followed for a hundred years.",
    ]
    static let question = "Who rose before the sun?"

    /// A chat whose user message pastes the passages (in `order`) and then asks the question.
    static func pastedChat(_ order: [Int], reuse: String = "") -> String {
        let content = order.map { passages[$0] }.joined(separator: "\n\n") + "\n\n" + question
        return #"{"model": "books-5m", "max_tokens": 8, "temperature": 0, \#(reuse)"messages": [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": \#(jsonString(content))}]}"#
    }

    /// (cached_tokens, reused_tokens, recomputed_tokens, text) of a successful chat completion.
    static func usage(_ response: TestResponse) throws -> (cached: Int, reused: Int, recomputed: Int, prompt: Int, text: String) {
        #expect(response.status == .ok, "\(String(buffer: response.body))")
        let body = try response.json()
        let usage = try object(body["usage"])
        let details = try object(usage["prompt_tokens_details"])
        let extra = try object(usage["reanchor"])
        let choice = try object(try array(body["choices"]).first)
        let text = try object(choice["message"])["content"] as? String ?? ""
        return (try integer(details["cached_tokens"]), try integer(extra["reused_tokens"]), try integer(extra["recomputed_tokens"]),
                try integer(usage["prompt_tokens"]), text)
    }

    @Test func documentsArePlacedInAnyOrderAndReused() async throws {
        let harness = try DocumentsHarness(chunkTokens: 64)
        try await harness.test { client in
            var ids: [String] = []
            for passage in Self.passages {
                let body = try await client.ingest(#"{"text": \#(jsonString(passage))}"#, as: DocumentsHarness.alpha)
                ids.append(try #require(body["id"] as? String))
            }
            func ask(_ order: [Int], reuse: String) async throws -> (cached: Int, reused: Int, recomputed: Int, prompt: Int, text: String) {
                let documents = "[" + order.map { "\"\(ids[$0])\"" }.joined(separator: ", ") + "]"
                let json = #"{"model": "books-5m", "max_tokens": 8, "temperature": 0, "reanchor": {"documents": \#(documents), "reuse": \#(reuse)}, "messages": [{"role": "user", "content": \#(jsonString(Self.question))}]}"#
                return try Self.usage(try await client.post("/v1/chat/completions", json: json, headers: DocumentsHarness.alpha))
            }
            // Ingest prefilled every chunk: both orders reuse them; blend recomputes 15% of the chunk tokens.
            let forward = try await ask([0, 1, 2], reuse: #"{"mode": "blend"}"#)
            let backward = try await ask([2, 0, 1], reuse: #"{"mode": "blend"}"#)
            for answer in [forward, backward] {
                #expect(answer.cached > 0)
                #expect(answer.cached == answer.reused)
                #expect(answer.recomputed > 0)
                #expect(answer.cached + answer.recomputed < answer.prompt)
            }
            #expect(forward.prompt == backward.prompt)
            let anchored = try await ask([1, 2, 0], reuse: #"{"mode": "anchored"}"#)
            #expect(anchored.recomputed == 0)
            #expect(anchored.cached > forward.cached, "anchored reuses every chunk token, blend recomputes some")

            // Blend at ratio 1 recomputes every chunk token past the check layer and below it everything is
            // recomputed: the same greedy answer as full recompute.
            let whole = try await ask([2, 0, 1], reuse: #"{"mode": "blend", "recompute_ratio": 1.0}"#)
            let full = try await ask([2, 0, 1], reuse: #"{"mode": "full"}"#)
            #expect(full.cached == 0)
            #expect(whole.text == full.text)
            #expect(!full.text.isEmpty)

            // The same passages pasted inline, in a third order, with no documents named: the ingested chunks
            // hit (a passage pasted as a paragraph has the ids it was ingested with).
            let pasted = try Self.usage(try await client.post("/v1/chat/completions", json: Self.pastedChat([1, 2, 0]),
                                                              headers: DocumentsHarness.alpha))
            let tokenizer = harness.scheduler.tokenizer
            let passageTokens = Self.passages.reduce(0) { $0 + tokenizer.encode($1, addSpecialTokens: false, continuing: true).count }
            #expect(pasted.cached + pasted.recomputed >= passageTokens, "cached \(pasted.cached), recomputed \(pasted.recomputed)")
        }
    }

    @Test func pastedPassagesHitInAnyOrder() async throws {
        let harness = try DocumentsHarness()
        try await harness.test { client in
            let first = try Self.usage(try await client.post("/v1/chat/completions", json: Self.pastedChat([0, 1, 2]),
                                                             headers: DocumentsHarness.alpha))
            let shuffled = try Self.usage(try await client.post("/v1/chat/completions", json: Self.pastedChat([2, 0, 1]),
                                                                headers: DocumentsHarness.alpha))
            let again = try Self.usage(try await client.post("/v1/chat/completions", json: Self.pastedChat([1, 2, 0]),
                                                             headers: DocumentsHarness.alpha))
            #expect(first.cached == 0, "nothing was seen before")
            #expect(shuffled.prompt == first.prompt, "a passage's tokens do not depend on its place")
            // Every passage and the system prompt hit; blend recomputes 15% of the chunk tokens.
            let tokenizer = harness.scheduler.tokenizer
            let passageTokens = Self.passages.reduce(0) { $0 + tokenizer.encode($1, addSpecialTokens: false, continuing: true).count }
            for answer in [shuffled, again] {
                #expect(answer.cached + answer.recomputed >= passageTokens, "cached \(answer.cached), recomputed \(answer.recomputed)")
            }
        }
    }

    @Test func tenantsNeverShareTransparentlyReusedChunks() async throws {
        let harness = try DocumentsHarness()
        try await harness.test { client in
            _ = try Self.usage(try await client.post("/v1/chat/completions", json: Self.pastedChat([0, 1, 2]), headers: DocumentsHarness.alpha))
            let alphaAgain = try Self.usage(try await client.post("/v1/chat/completions", json: Self.pastedChat([0, 1, 2]),
                                                                  headers: DocumentsHarness.alpha))
            #expect(alphaAgain.cached > 0)
            // Beta sends the very same text: alpha's chunks are private, beta hits none of them.
            let beta = try Self.usage(try await client.post("/v1/chat/completions", json: Self.pastedChat([0, 1, 2]),
                                                            headers: DocumentsHarness.beta))
            #expect(beta.cached == 0)
            let betaAgain = try Self.usage(try await client.post("/v1/chat/completions", json: Self.pastedChat([1, 0, 2]),
                                                                 headers: DocumentsHarness.beta))
            #expect(betaAgain.cached > 0, "beta hits its own")
            // Alpha's private document is the same 404 as a missing one when beta references it.
            let created = try await client.ingest(#"{"text": \#(jsonString(Self.passages[0]))}"#, as: DocumentsHarness.alpha)
            let id = try #require(created["id"] as? String)
            let json = #"{"model": "books-5m", "max_tokens": 2, "reanchor": {"documents": ["\#(id)"]}, "prompt": "Hello"}"#
            let refused = try await client.post("/v1/completions", json: json, headers: DocumentsHarness.beta)
            #expect(refused.status == .notFound)
            #expect(try refused.apiError().code == "document_not_found")
            #expect(try await client.post("/v1/completions", json: json, headers: DocumentsHarness.alpha).status == .ok)
        }
    }

    @Test func aConversationThatGrowsPastTheThresholdStillReusesItsEarlierTurns() async throws {
        let harness = try DocumentsHarness()
        try await harness.test { client in
            let first = #"{"model": "books-5m", "max_tokens": 8, "temperature": 0, "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Tell me of the captain."}]}"#
            let answer = try Self.usage(try await client.post("/v1/chat/completions", json: first, headers: DocumentsHarness.alpha))
            let second = #"{"model": "books-5m", "max_tokens": 8, "temperature": 0, "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Tell me of the captain."}, {"role": "assistant", "content": \#(jsonString(answer.text))}, {"role": "user", "content": "And of the long voyage north that he made with his crew in the winter of that year, past the ice?"}]}"#
            let next = try Self.usage(try await client.post("/v1/chat/completions", json: second, headers: DocumentsHarness.alpha))
            #expect(next.cached > 0, "the parked first turn is adopted: the segmented ids of both turns agree")
        }
    }

    @Test func reuseFieldsAreChecked() async throws {
        let harness = try DocumentsHarness()
        try await harness.test { client in
            for (reuse, param) in [(#"{"mode": "naive"}"#, "reanchor.reuse.mode"), (#"{"mode": 3}"#, "reanchor.reuse.mode"),
                                   (#"{"recompute_ratio": 1.5}"#, "reanchor.reuse.recompute_ratio"),
                                   (#"{"recompute_ratio": "high"}"#, "reanchor.reuse.recompute_ratio")] {
                let json = #"{"model": "books-5m", "max_tokens": 2, "prompt": "Hello", "reanchor": {"reuse": \#(reuse)}}"#
                let response = try await client.post("/v1/completions", json: json, headers: DocumentsHarness.alpha)
                #expect(response.status == .badRequest, "\(reuse)")
                #expect(try response.apiError().param == param, "\(reuse)")
            }
            let none = try await client.post("/v1/completions", json: #"{"model": "books-5m", "max_tokens": 2, "prompt": "Hi", "reanchor": {"documents": []}}"#,
                                             headers: DocumentsHarness.alpha)
            #expect(none.status == .ok, "no documents: the prompt alone")
            let many = "[" + Array(repeating: "\"doc-x\"", count: 65).joined(separator: ",") + "]"
            let response = try await client.post("/v1/completions", json: #"{"model": "books-5m", "prompt": "Hi", "reanchor": {"documents": \#(many)}}"#,
                                                 headers: DocumentsHarness.alpha)
            #expect(response.status == .badRequest)
            #expect(try response.apiError().param == "reanchor.documents")
        }
    }
}
