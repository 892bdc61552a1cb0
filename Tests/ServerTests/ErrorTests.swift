import Foundation
import Hummingbird
import HummingbirdTesting
import Server
import Testing

/// Every error status, in OpenAI's error shape, naming the field at fault.
@Suite(.serialized) struct ErrorTests {
    /// Bodies that must get 400 naming `param`.
    static let badRequests: [(uri: String, body: String, param: String?)] = [
        ("/v1/completions", #"{"model": "books-5m", "prompt": "x", "max_tokens": "ten"}"#, "max_tokens"),
        ("/v1/completions", #"{"model": "books-5m", "prompt": "x", "max_tokens": 2.5}"#, "max_tokens"),
        ("/v1/completions", #"{"model": "books-5m", "prompt": "x", "max_tokens": 1e30}"#, "max_tokens"),
        ("/v1/completions", #"{"model": "books-5m", "prompt": "x", "max_tokens": 0}"#, "max_tokens"),
        ("/v1/completions", #"{"model": "books-5m", "prompt": "x", "seed": 0.5}"#, "seed"),
        ("/v1/completions", #"{"model": "books-5m", "prompt": "x", "temperature": "hot"}"#, "temperature"),
        ("/v1/completions", #"{"model": "books-5m", "prompt": "x", "temperature": 2.5}"#, "temperature"),
        ("/v1/completions", #"{"model": "books-5m", "prompt": "x", "temperature": 1e999}"#, "temperature"),
        ("/v1/completions", #"{"model": "books-5m", "prompt": "x", "top_p": 0}"#, "top_p"),
        ("/v1/completions", #"{"model": "books-5m", "prompt": "x", "n": 2}"#, "n"),
        ("/v1/completions", #"{"model": "books-5m", "prompt": "x", "stop": 5}"#, "stop"),
        ("/v1/completions", #"{"model": "books-5m", "prompt": "x", "stop": [""]}"#, "stop"),
        ("/v1/completions", #"{"model": "books-5m", "prompt": "x", "logprobs": 6}"#, "logprobs"),
        ("/v1/completions", #"{"model": "books-5m", "prompt": "x", "frequency_penalty": 3}"#, "frequency_penalty"),
        ("/v1/completions", #"{"model": "books-5m", "prompt": "x", "stream": "yes"}"#, "stream"),
        ("/v1/completions", #"{"model": "books-5m", "prompt": "x", "stream_options": {"include_usage": true}}"#, "stream_options"),
        ("/v1/completions", #"{"model": "books-5m", "prompt": {"text": "x"}}"#, "prompt"),
        ("/v1/completions", #"{"model": "books-5m", "prompt": ["a", "b"]}"#, "prompt"),
        ("/v1/completions", #"{"model": "books-5m", "prompt": [1, 99999999]}"#, "prompt"),
        ("/v1/completions", #"{"model": "books-5m"}"#, "prompt"),
        ("/v1/completions", #"{"prompt": "x"}"#, "model"),
        ("/v1/completions", #"{"model": "books-5m", "prompt": "x", "reanchor": {"top_k": "many"}}"#, "reanchor.top_k"),
        ("/v1/completions", #"{"model": "books-5m", "prompt": "x", "reanchor": {"top_k": -1}}"#, "reanchor.top_k"),
        ("/v1/completions", #"{"model": "books-5m", "prompt": "x", "reanchor": {"repetition_penalty": 0}}"#, "reanchor.repetition_penalty"),
        ("/v1/completions", #"{"model": "books-5m", "prompt": "x", "reanchor": {"overflow": "wrap"}}"#, "reanchor.overflow"),
        ("/v1/completions", #"{"model": "books-5m", "prompt": "x", "reanchor": {"ignore_eos": "yes"}}"#, "reanchor.ignore_eos"),
        ("/v1/completions", #"{"model": "books-5m", "prompt": "x", "reanchor": 3}"#, "reanchor"),
        ("/v1/chat/completions", #"{"model": "books-5m", "messages": "hi"}"#, "messages"),
        ("/v1/chat/completions", #"{"model": "books-5m", "messages": []}"#, "messages"),
        ("/v1/chat/completions", #"{"model": "books-5m", "messages": [{"role": "user", "content": 5}]}"#, "messages[0].content"),
        ("/v1/chat/completions", #"{"model": "books-5m", "messages": [{"role": "user"}, {"content": "x"}]}"#, "messages[1].role"),
        ("/v1/chat/completions", #"{"model": "books-5m", "messages": [{"role": "wizard", "content": "x"}]}"#, "messages[0].role"),
        ("/v1/chat/completions", #"{"model": "books-5m", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]}"#, "messages[0].content[0]"),
        ("/v1/chat/completions", #"{"model": "books-5m", "messages": [{"role": "user", "content": "x"}], "top_logprobs": 2}"#, "top_logprobs"),
        ("/v1/chat/completions", #"{"model": "books-5m", "messages": [{"role": "user", "content": "x"}], "logprobs": true, "top_logprobs": 9}"#, "top_logprobs"),
        ("/v1/chat/completions", #"{"model": "books-5m", "messages": [{"role": "user", "content": "x"}], "logprobs": 1}"#, "logprobs"),
        ("/v1/chat/completions", #"{"model": "books-5m", "messages": [{"role": "user", "content": "x"}"#, nil),
        ("/v1/chat/completions", "not json at all", nil),
    ]

    @Test func badRequestsName400Fields() async throws {
        let harness = try ServerHarness()
        try await harness.test { client in
            for (uri, body, param) in Self.badRequests {
                let response = try await client.post(uri, json: body)
                #expect(response.status == .badRequest, "\(body) -> \(response.status)")
                let error = try response.apiError()
                #expect(error.type == "invalid_request_error")
                #expect(error.param == param, "\(body): param \(String(describing: error.param)), message \(error.message)")
                if let param { #expect(error.message.contains(param), "the message names the field: \(error.message)") }
            }
        }
    }

    @Test func unknownModelAndRouteAre404() async throws {
        let harness = try ServerHarness()
        try await harness.test { client in
            let unknown = try await client.post("/v1/chat/completions", json: #"{"model": "gpt-9", "messages": [{"role": "user", "content": "x"}]}"#)
            #expect(unknown.status == .notFound)
            let error = try unknown.apiError()
            #expect(error.code == "model_not_found" && error.param == "model" && error.message.contains("gpt-9"))
            #expect(try await client.get("/v1/models/gpt-9").status == .notFound)
            let route = try await client.get("/v1/nothing-here")
            #expect(route.status == .notFound)
            #expect(try route.apiError().code == "not_found")
        }
    }

    @Test func oversizeBodyIs413() async throws {
        let harness = try ServerHarness(maxBodyBytes: 4096)
        try await harness.test { client in
            let prompt = String(repeating: "a", count: 8000)
            let response = try await client.post("/v1/completions", json: #"{"model": "books-5m", "prompt": "\#(prompt)"}"#)
            #expect(response.status == .contentTooLarge)
            #expect(try response.apiError().message.contains("4096"))
        }
    }

    @Test func apiKeysGate401AndNameTheTenant() async throws {
        let keys = try APIKeys(data: Data(#"{"keys": [{"key": "sk-alpha", "tenant": "alpha"}, {"key": "sk-beta", "tenant": "beta", "admin": true}]}"#.utf8))
        let harness = try ServerHarness(apiKeys: keys)
        try await harness.test { client in
            let body = #"{"model": "books-5m", "prompt": "x", "max_tokens": 2}"#
            #expect(try await client.post("/v1/completions", json: body).status == .unauthorized)
            let wrong = try await client.post("/v1/completions", json: body, headers: [.authorization: "Bearer sk-gamma"])
            #expect(wrong.status == .unauthorized)
            #expect(try wrong.apiError().type == "authentication_error")
            #expect(try await client.get("/v1/models", headers: [.authorization: "sk-alpha"]).status == .unauthorized)
            #expect(try await client.post("/v1/completions", json: body, headers: [.authorization: "Bearer sk-alpha"]).status == .ok)
            #expect(try await client.get("/v1/models", headers: [.authorization: "Bearer sk-beta"]).status == .ok)
            #expect(try await client.get("/health").status == .ok, "health needs no key")
        }
    }

    @Test func badKeyFilesAreRefusedNamingTheEntry() throws {
        for (file, fragment) in [(#"{"keys": []}"#, "empty"), (#"{"keys": [{"key": "", "tenant": "a"}]}"#, "keys[0].key"),
                                 (#"{"keys": [{"key": "k", "tenant": "a"}, {"key": "k", "tenant": "b"}]}"#, "keys[1].key"),
                                 (#"{"keys": [{"key": "k"}]}"#, "tenant"), (#"{"keys": "k"}"#, "keys")] {
            #expect { try APIKeys(data: Data(file.utf8)) } throws: { "\($0)".contains(fragment) }
        }
        #expect(throws: ServerError.nonLoopbackWithoutKeys(host: "0.0.0.0")) {
            try ServerConfiguration(host: "0.0.0.0", modelID: "m", defaultChatMaxTokens: 8)
        }
        #expect(ServerConfiguration.isLoopback("127.0.0.1") && ServerConfiguration.isLoopback("::1"))
        #expect(!ServerConfiguration.isLoopback("10.0.0.1") && !ServerConfiguration.isLoopback("127.0.0.1.evil"))
    }

    @Test func fullQueueIs429WithRetryAfter() async throws {
        let harness = try ServerHarness(maxSequences: 1, maxQueue: 0)
        try await harness.test { client in
            let long = #"{"model": "books-5m", "prompt": "A long tale", "max_tokens": 400, "temperature": 0, "reanchor": {"overflow": "reanchor"}}"#
            let running = Task { try await client.post("/v1/completions", json: long) }
            var waited = 0
            while harness.scheduler.snapshot.running == 0 && waited < 500 {
                try await Task.sleep(for: .milliseconds(10))
                waited += 1
            }
            let refused = try await client.post("/v1/completions", json: #"{"model": "books-5m", "prompt": "x", "max_tokens": 2}"#)
            #expect(refused.status == .tooManyRequests)
            #expect(try refused.apiError().type == "rate_limit_error")
            #expect(Int(refused.headers[.retryAfter] ?? "") ?? 0 >= 1)
            #expect(try await running.value.status == .ok)
        }
    }

    @Test func promptBeyondTheContextWithOverflowErrorIs400() async throws {
        let harness = try ServerHarness(context: 64)
        try await harness.test { client in
            let words = String(repeating: "the sea and the ship ", count: 40)
            let response = try await client.post("/v1/chat/completions", json: """
                {"model": "books-5m", "messages": [{"role": "user", "content": "\(words)"}], "max_tokens": 4,
                 "reanchor": {"overflow": "error"}}
                """)
            #expect(response.status == .badRequest)
            let error = try response.apiError()
            #expect(error.code == "context_length_exceeded" && error.param == "messages")
        }
    }

    @Test func shuttingDownIs503() async throws {
        let harness = try ServerHarness()
        try await harness.test { client in
            await harness.server.shutdown()
            let response = try await client.post("/v1/completions", json: #"{"model": "books-5m", "prompt": "x"}"#)
            #expect(response.status == .serviceUnavailable)
            #expect(try response.apiError().code == "shutting_down")
            #expect(try await client.get("/health").status == .serviceUnavailable)
        }
    }
}
