#if canImport(Glibc)
import Glibc
#endif

/// Chooses tokens from logits: repetition penalty, temperature, top-k, top-p, then a draw from a seeded
/// generator (the order transformers applies its logits processors in).
public struct Sampler {
    public let parameters: SamplingParameters
    private var random: SplitMix64

    public init(parameters: SamplingParameters) {
        self.parameters = parameters
        random = SplitMix64(seed: parameters.seed)
    }

    /// The next token for `logits` (`[vocab]`) after `history`.
    public mutating func sample<C: Collection>(_ logits: C, history: [Int]) -> Int where C.Element == Float, C.Index == Int {
        var values = Array(logits)
        if parameters.repetitionPenalty != 1 {
            for token in Set(history) where token >= 0 && token < values.count {
                let value = values[token]
                values[token] = value > 0 ? value / parameters.repetitionPenalty : value * parameters.repetitionPenalty
            }
        }
        if parameters.temperature == 0 { return Self.argmax(values) }
        var candidates = values.indices.map { (token: $0, logit: values[$0] / parameters.temperature) }
        candidates.sort { $0.logit > $1.logit }
        if parameters.topK > 0 && parameters.topK < candidates.count { candidates.removeLast(candidates.count - parameters.topK) }
        let maximum = candidates[0].logit
        var probabilities = candidates.map { exp(Double($0.logit - maximum)) }
        let total = probabilities.reduce(0, +)
        probabilities = probabilities.map { $0 / total }
        if parameters.topP < 1 {
            var mass = 0.0
            var keep = 0
            while keep < probabilities.count {
                mass += probabilities[keep]
                keep += 1
                if mass >= Double(parameters.topP) { break }
            }
            probabilities.removeLast(probabilities.count - keep)
            let kept = probabilities.reduce(0, +)
            probabilities = probabilities.map { $0 / kept }
        }
        var draw = random.nextUnit()
        for (index, probability) in probabilities.enumerated() {
            draw -= probability
            if draw < 0 { return candidates[index].token }
        }
        return candidates[probabilities.count - 1].token
    }

    /// Index of the largest value (the first on ties).
    public static func argmax<C: Collection>(_ values: C) -> Int where C.Element == Float, C.Index == Int {
        var best = values.startIndex
        var bestValue = -Float.infinity
        for index in values.indices where values[index] > bestValue {
            bestValue = values[index]
            best = index
        }
        return best - values.startIndex
    }
}

/// A small, fast, seedable generator (SplitMix64), so a seed reproduces a sample exactly.
public struct SplitMix64 {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func nextUnit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
