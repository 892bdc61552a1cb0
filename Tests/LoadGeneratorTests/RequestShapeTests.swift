import Foundation
import Testing
@testable import LoadGenerator

/// Request bodies: distinct prompts of the asked length inside the vocabulary, greedy, EOS ignored both ways.
@Suite struct RequestShapeTests {
    @Test func completionBodies() throws {
        let shape = LoadRequestShape(promptTokens: 64, maxTokens: 32, vocabularySize: 4096)
        let body = try #require(try JSONSerialization.jsonObject(with: shape.body(model: "m", request: 3)) as? [String: Any])
        let prompt = try #require(body["prompt"] as? [Int])
        #expect(prompt == shape.promptIDs(request: 3) && prompt.count == 64)
        #expect(body["model"] as? String == "m" && body["max_tokens"] as? Int == 32 && body["temperature"] as? Int == 0)
        #expect(body["stream"] as? Bool == true && body["ignore_eos"] as? Bool == true)
        #expect((body["reanchor"] as? [String: Any])?["ignore_eos"] as? Bool == true)
        #expect((body["stream_options"] as? [String: Any])?["include_usage"] as? Bool == true)
        #expect(body["logprobs"] == nil)
        let firsts = Set((0..<1000).map { shape.promptIDs(request: $0)[0] })
        #expect(firsts.count == 1000, "every request starts differently: no shared prefix to reuse")
        #expect((0..<50).flatMap { shape.promptIDs(request: $0) }.allSatisfy { (16..<4096).contains($0) })
        let short = try #require(try JSONSerialization.jsonObject(with: shape.body(model: "m", request: 0, maxTokens: 2)) as? [String: Any])
        #expect(short["max_tokens"] as? Int == 2)
    }

    @Test func chatAndOptions() throws {
        let shape = LoadRequestShape(endpoint: .chat, promptTokens: 5, maxTokens: 8, vocabularySize: 100, ignoreEOS: false, tokenLogprobs: true)
        #expect(shape.path == "/v1/chat/completions")
        let body = try #require(try JSONSerialization.jsonObject(with: shape.body(model: "m", request: 0)) as? [String: Any])
        let messages = try #require(body["messages"] as? [[String: Any]])
        #expect((messages.first?["content"] as? String)?.split(separator: " ").count == 5)
        #expect(body["ignore_eos"] == nil && body["reanchor"] == nil && body["logprobs"] as? Bool == true)
    }

    @Test func processMemory() throws {
        let status = "Name:\treanchor\nVmPeak:\t  900 kB\nVmHWM:\t    2048 kB\nVmRSS:\t    1024 kB\nThreads:\t4\n"
        #expect(ProcessMemory.parse(status: status) == ProcessMemory(residentBytes: 1024 * 1024, peakResidentBytes: 2048 * 1024))
        #expect(ProcessMemory.parse(status: "Name:\tx\n") == nil)
        #expect(ProcessMemory.parse(status: "VmRSS:\t-5 kB\n") == nil)
        let mine = try #require(ProcessMemory.read(pid: ProcessInfo.processInfo.processIdentifier))
        #expect(mine.residentBytes > 0 && mine.peakResidentBytes >= mine.residentBytes)
        #expect(ProcessMemory.read(pid: Int32.max) == nil)
    }
}
