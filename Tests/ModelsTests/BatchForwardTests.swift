import Foundation
import Testing
import TestSupport
import Models
import Cache

/// One batched forward pass of several sequences gives each the logits it gets alone.
@Suite struct BatchForwardTests {
    /// Logits of the same rows alone and in a batch differ only by the summation order of the matrix
    /// products (one-row GEMV against a many-row GEMM): at most 1.3e-5 measured on both models (logits of
    /// magnitude ~10), so 1e-4 absolute; a row attending to another sequence's cells would be off by far more.
    static let tolerance = 1e-4

    static func models() -> [(String, URL)] {
        var models = [("books-5m (embedded)", Locations.repositoryRoot.appendingPathComponent("models/books-5m"))]
        if let shared = Locations.shared { models.append(("tinystories-656k", shared.appendingPathComponent("models/tinystories-656k"))) }
        return models
    }

    /// Deterministic token ids below `vocabulary`.
    static func tokens(_ count: Int, seed: Int, vocabulary: Int) -> [Int] {
        (0..<count).map { (($0 + 1) * 7919 + seed * 104_729) % (vocabulary - 1) + 1 }
    }

    /// Three sequences of different lengths in one cache: A holds 20 tokens and decodes one; B holds 7 and
    /// prefills a chunk of 5 more (logits for every row); C prefills 12 fresh tokens. Then all three decode
    /// one token together. Each is compared with the same calls alone in its own cache.
    @Test(arguments: models().map(\.1))
    func batchOfThreeMatchesEachAlone(directory: URL) throws {
        let model = try LlamaModel(directory: directory)
        let vocabulary = model.config.vocabularySize
        // (tokens, held before, outputs of the first step); the last token of each decodes in the second step.
        let plans: [(tokens: [Int], held: Int, outputs: LogitRows)] = [
            (Self.tokens(22, seed: 1, vocabulary: vocabulary), 20, .last),
            (Self.tokens(13, seed: 2, vocabulary: vocabulary), 7, .all),
            (Self.tokens(13, seed: 3, vocabulary: vocabulary), 0, .last),
        ]
        let sequences = [3, 5, 9]

        var alone: [(first: Logits, second: Logits)] = []
        for plan in plans {
            let cache = model.makeCache(capacity: 64)
            let end = plan.tokens.count - 1
            if plan.held > 0 {
                _ = try model.forward(tokens: Array(plan.tokens[..<plan.held]), positions: Array(0..<plan.held), cache: cache, outputs: .none)
            }
            let first = try model.forward(tokens: Array(plan.tokens[plan.held..<end]), positions: Array(plan.held..<end), cache: cache,
                                          outputs: plan.outputs)
            alone.append((first, try model.forward(tokens: [plan.tokens[end]], positions: [end], cache: cache)))
        }

        let cache = model.makeCache(capacity: 128)
        for (plan, sequence) in zip(plans, sequences) where plan.held > 0 {
            _ = try model.forward(tokens: Array(plan.tokens[..<plan.held]), positions: Array(0..<plan.held), sequence: sequence,
                                  cache: cache, outputs: .none)
        }
        let first = try model.forward(batch: zip(plans, sequences).map { plan, sequence in
            let end = plan.tokens.count - 1
            return SequenceRows(sequence: sequence, tokens: Array(plan.tokens[plan.held..<end]), positions: Array(plan.held..<end),
                                outputs: plan.outputs)
        }, cache: cache)
        let second = try model.forward(batch: zip(plans, sequences).map { plan, sequence in
            let end = plan.tokens.count - 1
            return SequenceRows(sequence: sequence, tokens: [plan.tokens[end]], positions: [end])
        }, cache: cache)

        #expect(first.map(\.rows) == [1, 5, 1])
        #expect(first.map(\.tokenIndices) == alone.map(\.first.tokenIndices))
        for index in plans.indices {
            let step1 = maxAbsoluteDifference(first[index].values, alone[index].first.values)
            let step2 = maxAbsoluteDifference(second[index].values, alone[index].second.values)
            #expect(step1 <= Self.tolerance, "sequence \(index) mixed step: \(step1)")
            #expect(step2 <= Self.tolerance, "sequence \(index) decode step: \(step2)")
        }
        for (plan, sequence) in zip(plans, sequences) { #expect(cache.positions(of: sequence) == Array(0..<plan.tokens.count)) }
    }

    /// A batch that cannot fit, or names a sequence twice, throws before the cache changes.
    @Test func invalidBatchChangesNothing() throws {
        let model = try LlamaModel(directory: Self.models()[0].1)
        let cache = model.makeCache(capacity: 8)
        _ = try model.forward(tokens: [1, 2, 3], positions: [0, 1, 2], sequence: 0, cache: cache, outputs: .none)
        #expect(throws: CacheError.self) {
            try model.forward(batch: [SequenceRows(sequence: 1, tokens: [4, 5], positions: [0, 1]),
                                      SequenceRows(sequence: 2, tokens: [1, 2, 3, 4], positions: [0, 1, 2, 3])], cache: cache)
        }
        #expect(throws: CacheError.self) {
            try model.forward(batch: [SequenceRows(sequence: 1, tokens: [4], positions: [0]),
                                      SequenceRows(sequence: 1, tokens: [5], positions: [1])], cache: cache)
        }
        #expect(throws: ModelError.self) {
            try model.forward(batch: [SequenceRows(sequence: 1, tokens: [4], positions: [0]),
                                      SequenceRows(sequence: 2, tokens: [model.config.vocabularySize], positions: [0])], cache: cache)
        }
        #expect(cache.occupied == 3)
        #expect(cache.positions(of: 1).isEmpty && cache.positions(of: 2).isEmpty)
    }
}
