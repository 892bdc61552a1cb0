import Foundation
import Testing
import Engine
import Models
import TestSupport

let sharedDirectory = Locations.shared
let repositoryRoot = Locations.repositoryRoot

struct TrainedReference: Decodable {
    let prompt: String
    let prompt_ids: [Int]
    let greedy: [Int]
    let corpus: String
    let corpus_offset: Int
    let corpus_length: Int
    let context: Int
    let perplexity: Double
    let scored_tokens: Int
    let stride: Int
    let perplexity_strided: Double
    let scored_tokens_strided: Int
}

/// Real trained models from ../shared against transformers: greedy continuation ids and perplexity.
@Suite struct TrainedModelTests {
    static let references: [String: TrainedReference] = {
        let url = repositoryRoot.appendingPathComponent("Tests/ModelsTests/Fixtures/trained.json")
        return (try? JSONDecoder().decode([String: TrainedReference].self, from: Data(contentsOf: url))) ?? [:]
    }()

    @Test(.enabled(if: sharedDirectory != nil, "../shared is absent, so the trained models are not available"),
          arguments: ["books-5m", "books-5m-bf16", "tinystories-656k"])
    func greedyAndPerplexityMatchTransformers(name: String) throws {
        let shared = try #require(sharedDirectory)
        let reference = try #require(Self.references[name])
        let languageModel = try LanguageModel(directory: shared.appendingPathComponent("models/\(name)"))
        #expect(languageModel.tokenizer.encode(reference.prompt, addSpecialTokens: true) == reference.prompt_ids)

        let generator = try Generator(languageModel: languageModel)
        let request = try GenerationRequest(maxTokens: reference.greedy.count, stopOnEOS: false)
        let result = try generator.generate(promptTokens: reference.prompt_ids, request: request)
        #expect(result.tokens == reference.greedy)

        let text = try String(contentsOf: shared.appendingPathComponent(reference.corpus), encoding: .utf8)
        let start = text.index(text.startIndex, offsetBy: reference.corpus_offset)
        let excerpt = String(text[start..<text.index(start, offsetBy: reference.corpus_length)])
        let tokens = languageModel.tokenizer.encode(excerpt, addSpecialTokens: false)
        let evaluator = try PerplexityEvaluator(model: languageModel.model, context: reference.context)
        let measured = try evaluator.evaluate(tokens)
        #expect(measured.tokens == reference.scored_tokens)
        #expect(abs(measured.perplexity / reference.perplexity - 1) < 1e-4,
                "perplexity \(measured.perplexity) vs transformers \(reference.perplexity)")

        let strided = try PerplexityEvaluator(model: languageModel.model, context: reference.context, stride: reference.stride).evaluate(tokens)
        #expect(strided.tokens == reference.scored_tokens_strided)
        #expect(abs(strided.perplexity / reference.perplexity_strided - 1) < 1e-4,
                "strided perplexity \(strided.perplexity) vs transformers \(reference.perplexity_strided)")
    }

    /// The embedded default model (bf16 copy of books-5m) loads and produces the same greedy text as the reference.
    @Test func embeddedModelMatchesReference() throws {
        let reference = try #require(Self.references["books-5m-bf16"])
        let languageModel = try LanguageModel(directory: repositoryRoot.appendingPathComponent("models/books-5m"))
        let request = try GenerationRequest(maxTokens: reference.greedy.count, stopOnEOS: false)
        let result = try Generator(languageModel: languageModel).generate(promptTokens: reference.prompt_ids, request: request)
        #expect(result.tokens == reference.greedy)
    }
}
