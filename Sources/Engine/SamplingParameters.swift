/// How the next token is chosen. Validated at construction: an invalid value throws naming the parameter.
public struct SamplingParameters: Sendable, Equatable {
    /// 0 means greedy (argmax), and so does anything below `Sampler.greedyTemperature` (1e-6).
    public var temperature: Float
    /// Keep only the `topK` most likely tokens; 0 disables.
    public var topK: Int
    /// Keep the smallest set of tokens whose probability mass reaches `topP`; 1 disables.
    public var topP: Float
    /// Divide positive (multiply negative) logits of tokens already seen; 1 disables. As in transformers.
    public var repetitionPenalty: Float
    /// Seed of the sampling random number generator.
    public var seed: UInt64

    public init(temperature: Float = 0, topK: Int = 0, topP: Float = 1, repetitionPenalty: Float = 1, seed: UInt64 = 0) throws {
        guard temperature >= 0, temperature.isFinite else {
            throw EngineError.invalidParameter(name: "temperature", reason: "must be >= 0, found \(temperature)")
        }
        guard topK >= 0 else { throw EngineError.invalidParameter(name: "top-k", reason: "must be >= 0, found \(topK)") }
        guard topP > 0, topP <= 1 else { throw EngineError.invalidParameter(name: "top-p", reason: "must be in (0, 1], found \(topP)") }
        guard repetitionPenalty > 0, repetitionPenalty.isFinite else {
            throw EngineError.invalidParameter(name: "repetition-penalty", reason: "must be > 0, found \(repetitionPenalty)")
        }
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.repetitionPenalty = repetitionPenalty
        self.seed = seed
    }

    /// Argmax decoding.
    public static let greedy = SamplingParameters(uncheckedTemperature: 0)

    private init(uncheckedTemperature: Float) {
        temperature = uncheckedTemperature
        topK = 0
        topP = 1
        repetitionPenalty = 1
        seed = 0
    }
}
