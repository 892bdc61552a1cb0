import Testing
@testable import Engine

@Suite struct SamplingTests {
    @Test func greedyPicksTheLargestLogit() throws {
        var sampler = Sampler(parameters: .greedy)
        #expect(sampler.sample([0.1, 2.5, -1, 2.4], history: []) == 1)
    }

    @Test func repetitionPenaltyDemotesSeenTokens() throws {
        var sampler = Sampler(parameters: try SamplingParameters(repetitionPenalty: 2))
        // 2.5 / 2 = 1.25 < 2.4: the repeated token loses.
        #expect(sampler.sample([0.1, 2.5, -1, 2.4], history: [1]) == 3)
    }

    @Test func topKOneIsGreedyWhateverTheTemperature() throws {
        var sampler = Sampler(parameters: try SamplingParameters(temperature: 5, topK: 1, seed: 7))
        for _ in 0..<20 { #expect(sampler.sample([0.1, 2.5, -1, 2.4], history: []) == 1) }
    }

    @Test func topPKeepsOnlyTheNucleus() throws {
        // Probabilities ≈ [0.87, 0.12, 0.01]: top-p 0.5 keeps only token 0.
        var sampler = Sampler(parameters: try SamplingParameters(temperature: 1, topP: 0.5, seed: 3))
        for _ in 0..<50 { #expect(sampler.sample([4, 2, -0.5], history: []) == 0) }
    }

    @Test func sameSeedSameSamples() throws {
        let parameters = try SamplingParameters(temperature: 1, seed: 42)
        var a = Sampler(parameters: parameters)
        var b = Sampler(parameters: parameters)
        let logits: [Float] = [1, 1.1, 0.9, 1.2, 0.8]
        let first = (0..<30).map { _ in a.sample(logits, history: []) }
        #expect(first == (0..<30).map { _ in b.sample(logits, history: []) })
        #expect(Set(first).count > 1, "temperature 1 over near-equal logits must not be deterministic")
    }

    @Test func invalidParametersThrowNamingTheParameter() {
        #expect(throws: EngineError.invalidParameter(name: "temperature", reason: "must be >= 0, found -1.0")) {
            try SamplingParameters(temperature: -1)
        }
        #expect(throws: EngineError.self) { try SamplingParameters(topP: 0) }
        #expect(throws: EngineError.self) { try SamplingParameters(topK: -2) }
        #expect(throws: EngineError.self) { try GenerationRequest(maxTokens: -1) }
    }

    @Test func stopStringFilterHoldsBackPartialMatches() {
        var filter = StopStringFilter(stopStrings: ["END"])
        #expect(filter.feed("hello E") == ("hello ", false))
        #expect(filter.feed("N") == ("", false))
        #expect(filter.feed("D tail") == ("", true))
        var other = StopStringFilter(stopStrings: ["END"])
        #expect(other.feed("hello E") == ("hello ", false))
        #expect(other.feed("xit") == ("Exit", false))
    }
}
