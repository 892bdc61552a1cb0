import Foundation
import Testing
import Engine

@Suite struct GeneratorTests {
    let languageModel: LanguageModel

    init() throws {
        languageModel = try LanguageModel(directory: repositoryRoot.appendingPathComponent("models/books-5m"))
    }

    @Test func stopsAtMaxTokensAndStreamsTheSameText() throws {
        let generator = try Generator(languageModel: languageModel)
        var streamed = ""
        let result = try generator.generate(prompt: "The whale", request: try GenerationRequest(maxTokens: 12, stopOnEOS: false)) {
            streamed += $0
        }
        #expect(result.tokens.count == 12)
        #expect(result.stopReason == .maxTokens)
        #expect(streamed == result.text)
        #expect(result.text == languageModel.tokenizer.decode(result.tokens))
    }

    @Test func stopStringEndsGenerationAndIsNotOutput() throws {
        let generator = try Generator(languageModel: languageModel)
        let free = try generator.generate(prompt: "The whale", request: try GenerationRequest(maxTokens: 24, stopOnEOS: false))
        // Stop at a word the free-running text contains.
        let words = free.text.split(separator: " ").filter { $0.count >= 3 }
        let stop = String(try #require(words.dropFirst().first))
        let result = try generator.generate(prompt: "The whale", request: try GenerationRequest(maxTokens: 24, stopStrings: [stop], stopOnEOS: false))
        #expect(result.stopReason == .stopString)
        #expect(!result.text.contains(stop))
        #expect(free.text.hasPrefix(result.text))
    }

    @Test func contextWindowEndsGeneration() throws {
        let generator = try Generator(languageModel: languageModel, context: 10)
        let prompt = languageModel.tokenizer.encode("The whale", addSpecialTokens: true)
        let result = try generator.generate(promptTokens: prompt, request: try GenerationRequest(maxTokens: 50, stopOnEOS: false))
        #expect(result.stopReason == .contextFull)
        #expect(result.tokens.count == 10 - prompt.count + 1)
    }

    @Test func promptLongerThanContextIsAClearError() throws {
        let generator = try Generator(languageModel: languageModel, context: 4)
        #expect(throws: EngineError.self) {
            try generator.generate(prompt: "a long prompt that has more than four tokens in it", request: try GenerationRequest())
        }
    }

    @Test func perplexityStrideScoresEveryTokenOnce() throws {
        let tokens = languageModel.tokenizer.encode(String(repeating: "It was the best of times. ", count: 30), addSpecialTokens: false)
        let plain = try PerplexityEvaluator(model: languageModel.model, context: 64).evaluate(tokens)
        let strided = try PerplexityEvaluator(model: languageModel.model, context: 64, stride: 16).evaluate(tokens)
        #expect(plain.tokens == tokens.count)
        #expect(strided.tokens == tokens.count)
        #expect(strided.windows > plain.windows)
        #expect(throws: EngineError.self) { try PerplexityEvaluator(model: languageModel.model, context: 64, stride: 64) }
    }
}
