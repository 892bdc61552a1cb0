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

    /// Temperatures below this are greedy: at `1e-6` a logit gap of `1e-4` (below what Float logits resolve
    /// around typical magnitudes) already makes the odds `e^-100`, so sampling would pick the argmax anyway.
    public static let greedyTemperature: Float = 1e-6

    /// The next token for `logits` (`[vocab]`) after `history`. NaN logits are never chosen (they count as
    /// -infinity); scaling by the temperature happens after subtracting the largest logit and in double
    /// precision, so no temperature can overflow the weights to infinity or NaN.
    public mutating func sample<C: Collection>(_ logits: C, history: [Int]) -> Int where C.Element == Float, C.Index == Int {
        var values = Array(logits)
        for index in values.indices where values[index].isNaN { values[index] = -.infinity }
        if parameters.repetitionPenalty != 1 {
            for token in Set(history) where token >= 0 && token < values.count {
                let value = values[token]
                values[token] = value > 0 ? value / parameters.repetitionPenalty : value * parameters.repetitionPenalty
            }
        }
        guard !values.isEmpty else { return 0 }
        if parameters.temperature < Self.greedyTemperature { return Self.argmax(values) }
        let best = values[Self.argmax(values)]
        // Every logit is -infinity (or +infinity ties): nothing to weigh, take the first best.
        guard best.isFinite else { return Self.argmax(values) }
        let temperature = Double(parameters.temperature)
        // (logit - max) / T <= 0, so exp() is in [0, 1] and the best candidate weighs exactly 1.
        var candidates = values.indices.map { (token: $0, logit: (Double(values[$0]) - Double(best)) / temperature) }
        candidates.sort { $0.logit > $1.logit || ($0.logit == $1.logit && $0.token < $1.token) }
        if parameters.topK > 0 && parameters.topK < candidates.count { candidates.removeLast(candidates.count - parameters.topK) }
        var probabilities = candidates.map { exp($0.logit) }
        let total = probabilities.reduce(0, +)  // >= 1: the first candidate weighs exp(0)
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
        // Rounding left the draw just short of the total: the last kept candidate with any weight.
        let last = probabilities.lastIndex { $0 > 0 } ?? 0
        return candidates[last].token
    }

    /// `sample` after OpenAI's frequency and presence penalties on the tokens generated so far:
    /// `logit -= frequency * count + presence * (count > 0 ? 1 : 0)`, with `occurrences` token -> count.
    public mutating func sample<C: Collection>(_ logits: C, history: [Int], occurrences: [Int: Int], frequencyPenalty: Float,
                                               presencePenalty: Float) -> Int where C.Element == Float, C.Index == Int {
        guard frequencyPenalty != 0 || presencePenalty != 0, !occurrences.isEmpty else { return sample(logits, history: history) }
        var values = Array(logits)
        for (token, count) in occurrences where token >= 0 && token < values.count && count > 0 {
            values[token] -= frequencyPenalty * Float(count) + presencePenalty
        }
        return sample(values, history: history)
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
