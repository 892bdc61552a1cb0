import Foundation
import Testing
import Engine
import Cache

@Suite struct OverflowTests {
    let languageModel: LanguageModel

    init() throws {
        languageModel = try LanguageModel(directory: repositoryRoot.appendingPathComponent("models/books-5m"))
    }

    @Test(arguments: OverflowPolicy.allCases)
    func generationContinuesPastTheContextWindow(policy: OverflowPolicy) throws {
        let generator = try Generator(languageModel: languageModel, context: 32, overflow: try Truncation(policy: policy, keep: 4, fraction: 0.5))
        let result = try generator.generate(prompt: "The sea was calm", request: try GenerationRequest(maxTokens: 80, stopOnEOS: false))
        #expect(result.tokens.count == 80)
        #expect(result.stopReason == .maxTokens)
        #expect(generator.truncations.count >= 3)
        // After the last truncation the cache holds one sequence at positions 0..<n: no gaps, no stale cells.
        let positions = generator.cache.positions(of: 0)
        #expect(!positions.isEmpty && positions == Array(0..<positions.count))
        #expect(generator.cache.occupied == positions.count)
    }

    @Test(arguments: OverflowPolicy.allCases)
    func truncationKeepsSinksAndDropsTheOldestFraction(policy: OverflowPolicy) throws {
        let model = languageModel.model
        var tokens = languageModel.tokenizer.encode(String(repeating: "Call me Ishmael. Some years ago. ", count: 4), addSpecialTokens: true)
        let original = tokens
        let cache = model.makeCache(capacity: 64)
        _ = try model.forward(tokens: tokens, positions: Array(0..<tokens.count), cache: cache, outputs: .none)
        let truncation = try Truncation(policy: policy, keep: 4, fraction: 0.5)
        let drop = truncation.dropped(from: original.count)
        try truncation.apply(to: cache, tokens: &tokens, model: model)
        #expect(tokens == Array(original[..<4] + original[(4 + drop)...]))
        #expect(cache.count(sequence: 0) == tokens.count)
        #expect(cache.maxPosition(sequence: 0) == tokens.count - 1)
    }

    @Test func badParametersAreClearErrors() throws {
        #expect(throws: EngineError.invalidParameter(name: "overflow", reason: "unknown policy 'wrap' (one of: reanchor, reprefill, naive)")) {
            try Truncation.policy(named: "wrap")
        }
        #expect(throws: EngineError.self) { try Truncation(fraction: 1.5) }
        #expect(throws: EngineError.self) { try Truncation(keep: -1) }
        #expect(throws: EngineError.self) { try Generator(languageModel: languageModel, context: 8, overflow: try Truncation(keep: 7)) }
    }
}
