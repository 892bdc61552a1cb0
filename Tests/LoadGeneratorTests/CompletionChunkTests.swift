import Foundation
import Testing
@testable import LoadGenerator

/// Chunks of both endpoints, of reanchor serve and of llama-server, read into text, finish, usage, errors.
@Suite struct CompletionChunkTests {
    @Test func completionChatUsageAndDone() throws {
        let text = try CompletionChunk(data: #"{"choices":[{"text":" upon","index":0,"logprobs":null,"finish_reason":null}]}"#)
        #expect(text == CompletionChunk(text: " upon"))
        let chat = try CompletionChunk(data: #"{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}],"object":"chat.completion.chunk"}"#)
        #expect(chat == CompletionChunk(text: "Hi"))
        let role = try CompletionChunk(data: #"{"choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":null}]}"#)
        #expect(role.text == nil)
        let finish = try CompletionChunk(data: #"{"choices":[{"text":"","index":0,"finish_reason":"length"}],"usage":{"completion_tokens":32,"prompt_tokens":64}}"#)
        #expect(finish == CompletionChunk(text: "", finishReason: "length", completionTokens: 32))
        let usage = try CompletionChunk(data: #"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"#)
        #expect(usage == CompletionChunk(completionTokens: 2))
        #expect(try CompletionChunk(data: "[DONE]") == CompletionChunk(isDone: true))
    }

    @Test func logprobsMarkATokenWithoutText() throws {
        let completion = try CompletionChunk(data: #"{"choices":[{"text":"","index":0,"logprobs":{"tokens":[""],"token_logprobs":[-1.5],"top_logprobs":null,"text_offset":[4]},"finish_reason":null}]}"#)
        #expect(completion.hasTokenLogprobs && completion.text == "")
        let finish = try CompletionChunk(data: #"{"choices":[{"text":"","index":0,"logprobs":{"tokens":[],"token_logprobs":[],"top_logprobs":[],"text_offset":[]},"finish_reason":"length"}]}"#)
        #expect(!finish.hasTokenLogprobs)
        let chat = try CompletionChunk(data: #"{"choices":[{"index":0,"delta":{"content":""},"logprobs":{"content":[{"token":"","logprob":-2}]}}]}"#)
        #expect(chat.hasTokenLogprobs)
        var timing = StreamTiming(start: 0)
        try timing.record(completion, at: 1)
        try timing.record(finish, at: 2)
        #expect(timing.arrivals == [1])
    }

    @Test func errorsAndGarbage() throws {
        let error = try CompletionChunk(data: #"{"error":{"message":"queue full","type":"rate_limit_error"}}"#)
        #expect(error.error == "queue full")
        var timing = StreamTiming(start: 0)
        #expect(throws: LoadError.streamError("queue full")) { try timing.record(error, at: 1) }
        #expect(throws: LoadError.badChunk("not json")) { try CompletionChunk(data: "not json") }
        #expect(throws: LoadError.badChunk("[1,2]")) { try CompletionChunk(data: "[1,2]") }
    }
}
