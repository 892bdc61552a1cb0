import Foundation
import Testing
@testable import LoadGenerator

/// Streams recorded from the servers `bench serve` compares, read as the load generator reads them.
@Suite struct RecordedStreamTests {
    /// llama.cpp's llama-server (build b1-1652066, /v1/completions, token-id prompt, max_tokens 5,
    /// ignore_eos, include_usage): usage and timings ride on the finish chunk.
    static let llamaServer = #"""
        data: {"choices":[{"text":"oured","index":0,"logprobs":null,"finish_reason":null}],"created":1795436502,"model":"/work/anchor-models/qwen05b-v4k-bf16.gguf","system_fingerprint":"b1-1652066","object":"text_completion","id":"chatcmpl-Zf8EBR71diz6D1Todv3utvArG3ZvIzPj"}

        data: {"choices":[{"text":"oured","index":0,"logprobs":null,"finish_reason":null}],"created":1795436504,"model":"/work/anchor-models/qwen05b-v4k-bf16.gguf","system_fingerprint":"b1-1652066","object":"text_completion","id":"chatcmpl-Zf8EBR71diz6D1Todv3utvArG3ZvIzPj"}

        data: {"choices":[{"text":"oured","index":0,"logprobs":null,"finish_reason":null}],"created":1795436506,"model":"/work/anchor-models/qwen05b-v4k-bf16.gguf","system_fingerprint":"b1-1652066","object":"text_completion","id":"chatcmpl-Zf8EBR71diz6D1Todv3utvArG3ZvIzPj"}

        data: {"choices":[{"text":"oured","index":0,"logprobs":null,"finish_reason":null}],"created":1795436509,"model":"/work/anchor-models/qwen05b-v4k-bf16.gguf","system_fingerprint":"b1-1652066","object":"text_completion","id":"chatcmpl-Zf8EBR71diz6D1Todv3utvArG3ZvIzPj"}

        data: {"choices":[{"text":"oured","index":0,"logprobs":null,"finish_reason":null}],"created":1795436510,"model":"/work/anchor-models/qwen05b-v4k-bf16.gguf","system_fingerprint":"b1-1652066","object":"text_completion","id":"chatcmpl-Zf8EBR71diz6D1Todv3utvArG3ZvIzPj"}

        data: {"choices":[{"text":"","index":0,"logprobs":null,"finish_reason":"length"}],"created":1795436510,"model":"/work/anchor-models/qwen05b-v4k-bf16.gguf","system_fingerprint":"b1-1652066","object":"text_completion","usage":{"completion_tokens":5,"prompt_tokens":4,"total_tokens":9,"prompt_tokens_details":{"cached_tokens":0}},"id":"chatcmpl-Zf8EBR71diz6D1Todv3utvArG3ZvIzPj","timings":{"cache_n":0,"prompt_n":4,"prompt_ms":1625.479,"prompt_per_token_ms":406.36975,"prompt_per_second":2.4608130895569857,"predicted_n":5,"predicted_ms":8136.742,"predicted_per_token_ms":2034.1855,"predicted_per_second":0.4915972510864914}}

        data: [DONE]


        """#

    /// Feeds `stream` in pieces of `piece` bytes, timing every chunk at its index.
    static func timing(of stream: String, piece: Int) throws -> StreamTiming {
        var parser = ServerSentEventParser()
        var timing = StreamTiming(start: 0)
        let bytes = Array(stream.utf8)
        var index = 0
        var time = 0.0
        while index < bytes.count {
            let end = min(index + piece, bytes.count)
            for data in try parser.feed(bytes[index..<end]) {
                time += 1
                try timing.record(try CompletionChunk(data: data), at: time)
            }
            index = end
        }
        #expect(!parser.isInsideEvent)
        return timing
    }

    @Test(arguments: [1, 7, 100, 1 << 20])
    func llamaServerStream(piece: Int) throws {
        let timing = try Self.timing(of: Self.llamaServer, piece: piece)
        #expect(timing.arrivals == [1, 2, 3, 4, 5])
        #expect(timing.usageTokens == 5 && timing.tokens == 5)
        #expect(timing.finishReason == "length" && timing.sawDone)
        #expect(timing.timePerOutputToken == 1 && timing.timeToFirstToken == 1)
    }
}
