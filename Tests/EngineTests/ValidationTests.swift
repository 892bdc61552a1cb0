import Testing
import Engine

/// Limits on user-supplied sizes, checked where the engine's parameter types are built.
@Suite struct ValidationTests {
    @Test func contextWindowMustFitTheModel() throws {
        #expect(try ContextWindow(requested: nil, modelWindow: 1024).tokens == 1024)
        #expect(try ContextWindow(requested: 2, modelWindow: 1024).tokens == 2)
        #expect(try ContextWindow(requested: 1024, modelWindow: 1024).tokens == 1024)
        #expect(throws: EngineError.invalidParameter(
            name: "context",
            reason: "100000000 exceeds the model's window of 1024 tokens (max_position_embeddings, or the original context of dynamic RoPE scaling); use at most 1024")) {
            try ContextWindow(requested: 100_000_000, modelWindow: 1024)
        }
        #expect(throws: EngineError.self) { try ContextWindow(requested: Int.max, modelWindow: 1024) }
        #expect(throws: EngineError.invalidParameter(name: "context", reason: "must be >= 2, found 1")) {
            try ContextWindow(requested: 1, modelWindow: 1024)
        }
        #expect(throws: EngineError.self) { try ContextWindow(requested: -3, modelWindow: 1024) }
    }

    @Test func hugeMaxTokensClampsToTheRoomLeftWithoutOverflow() throws {
        let unlimited = try GenerationRequest(maxTokens: Int.max)
        #expect(unlimited.tokensThatFit(promptTokens: 100, context: 1024) == 924)
        #expect(unlimited.tokensThatFit(promptTokens: 1024, context: 1024) == 0)
        #expect(unlimited.tokensThatFit(promptTokens: 2000, context: 1024) == 0)
        #expect(try GenerationRequest(maxTokens: 5).tokensThatFit(promptTokens: 100, context: 1024) == 5)
    }

    @Test func truncationLimitsNameTheParameter() {
        #expect(throws: EngineError.invalidParameter(name: "fraction", reason: "must be in (0, 1), found 1.5")) {
            try Truncation(fraction: 1.5)
        }
        #expect(throws: EngineError.self) { try Truncation(fraction: .nan) }
        #expect(throws: EngineError.self) { try Truncation(keep: -1) }
    }
}

/// Perplexity needs one token to score: a single token after BOS counts, an empty text does not.
@Suite struct PerplexityInputTests {
    let languageModel: LanguageModel

    init() throws {
        languageModel = try LanguageModel(directory: repositoryRoot.appendingPathComponent("models/books-5m"))
    }

    @Test func theMinimumIsOneTokenToScore() throws {
        #expect(PerplexityEvaluator.minimumTokens(hasBOS: true) == 1)
        #expect(PerplexityEvaluator.minimumTokens(hasBOS: false) == 2)
        let evaluator = try PerplexityEvaluator(model: languageModel.model, context: 64)
        let hasBOS = languageModel.config.bosTokenID != nil
        #expect(evaluator.minimumTokens == (hasBOS ? 1 : 2))
        let tokens = languageModel.tokenizer.encode("The whale", addSpecialTokens: false)
        let enough = Array(tokens.prefix(evaluator.minimumTokens))
        #expect(try evaluator.evaluate(enough).tokens == 1)
        let tooFew = Array(tokens.prefix(evaluator.minimumTokens - 1))
        #expect(throws: EngineError.self) { try evaluator.evaluate(tooFew) }
        #expect(throws: EngineError.self) { try evaluator.evaluate([]) }
    }

    @Test func contextAndStrideAreChecked() {
        #expect(throws: EngineError.self) { try PerplexityEvaluator(model: languageModel.model, context: 1) }
        #expect(throws: EngineError.self) { try PerplexityEvaluator(model: languageModel.model, context: 64, stride: 0) }
        #expect(throws: EngineError.self) { try PerplexityEvaluator(model: languageModel.model, context: 64, stride: 65) }
    }
}
