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

    /// 1e-40 is a Float subnormal: logits / T overflowed to infinity, exp gave NaN and the draw fell through
    /// to the least likely candidate. A temperature that small is greedy.
    @Test(arguments: [Float(1e-40), 1e-30, Float.leastNonzeroMagnitude, 1e-7])
    func tinyTemperaturePicksTheMostLikelyToken(temperature: Float) throws {
        var sampler = Sampler(parameters: try SamplingParameters(temperature: temperature, seed: 9))
        for _ in 0..<20 { #expect(sampler.sample([0.1, 2.5, -1, 2.4, -30], history: []) == 1) }
    }

    /// Just above the greedy threshold the arithmetic runs in double precision after subtracting the maximum:
    /// the weights stay finite and the most likely token wins.
    @Test func smallTemperatureAboveTheThresholdIsStillNumericallySafe() throws {
        var sampler = Sampler(parameters: try SamplingParameters(temperature: 1e-5, topP: 0.9, seed: 1))
        for _ in 0..<20 { #expect(sampler.sample([1e34, -1e34, 3e34, 0], history: []) == 2) }
    }

    @Test func largeLogitsDoNotOverflow() throws {
        // 3e38 / 0.5 overflowed Float to infinity (then inf - inf = NaN); the gap of 2e38 makes token 1 certain.
        var sampler = Sampler(parameters: try SamplingParameters(temperature: 0.5, seed: 5))
        for _ in 0..<20 { #expect(sampler.sample([2e38, 3e38, -3e38], history: []) == 1) }
    }

    @Test func nanLogitsAreNeverChosen() throws {
        var greedy = Sampler(parameters: .greedy)
        #expect(greedy.sample([.nan, 1, .nan, 0.5], history: []) == 1)
        var sampler = Sampler(parameters: try SamplingParameters(temperature: 1, seed: 11))
        for _ in 0..<50 { #expect([1, 3].contains(sampler.sample([.nan, 1, .nan, 0.5], history: []))) }
        var allMasked = Sampler(parameters: try SamplingParameters(temperature: 1, seed: 11))
        #expect(allMasked.sample([-.infinity, .nan, -.infinity], history: []) == 0)
    }

    @Test func invalidParametersThrowNamingTheParameter() {
        #expect(throws: EngineError.invalidParameter(name: "temperature", reason: "must be >= 0, found -1.0")) {
            try SamplingParameters(temperature: -1)
        }
        #expect(throws: EngineError.self) { try SamplingParameters(topP: 0) }
        #expect(throws: EngineError.self) { try SamplingParameters(topK: -2) }
        #expect(throws: EngineError.invalidParameter(name: "max-tokens", reason: "must be >= 0, found -5")) {
            try GenerationRequest(maxTokens: -5)
        }
        #expect(throws: EngineError.self) { try SamplingParameters(temperature: .nan) }
        #expect(throws: EngineError.self) { try SamplingParameters(temperature: .infinity) }
        #expect(throws: EngineError.self) { try SamplingParameters(topP: .nan) }
        #expect(throws: EngineError.self) { try SamplingParameters(topP: 1.01) }
        #expect(throws: EngineError.self) { try SamplingParameters(topP: -0.5) }
        #expect(throws: EngineError.self) { try SamplingParameters(repetitionPenalty: .nan) }
        #expect(throws: EngineError.self) { try SamplingParameters(repetitionPenalty: 0) }
        #expect(throws: EngineError.self) { try GenerationRequest(stopStrings: [""]) }
        #expect((try? SamplingParameters(temperature: 1e-40, topK: 3, topP: 1)) != nil, "tiny is valid: it means greedy")
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
