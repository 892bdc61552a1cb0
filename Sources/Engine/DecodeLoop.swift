import Cache
import Models

/// What the caller of a decode loop wants after seeing the latest logits.
public enum DecodeStep: Sendable, Equatable {
    /// Feed this token at the next position.
    case feed(Int)
    /// End the loop.
    case stop
}

/// The one decode loop every caller uses (generation, RAG answers, benchmarks, experiments, reuse
/// comparisons): show the caller the latest logits, feed the token it chooses at the next position, repeat.
/// The caller owns the policy (sampling, stop strings, end of sequence, token budget); the loop owns the
/// positions and, when the context is full, asks `overflow` to make room.
public struct DecodeLoop {
    public let model: any CausalLanguageModel
    public let cache: KVCache
    public let sequence: Int
    /// Positions stay below this (the context window).
    public let limit: Int

    public init(model: any CausalLanguageModel, cache: KVCache, sequence: Int = 0, limit: Int? = nil) {
        self.model = model
        self.cache = cache
        self.sequence = sequence
        self.limit = limit ?? cache.geometry.capacity
    }

    /// Where a loop ended.
    public struct Outcome {
        /// Logits of the last token fed (or the starting logits when none was).
        public var logits: Logits
        /// The next free position.
        public var position: Int
        /// Tokens fed to the model.
        public var fed: Int
        /// True when it stopped because the context was full and `overflow` made no room.
        public var contextFull: Bool
    }

    /// Runs from `logits` (those of the token at `position - 1`).
    /// - step: sees each row of logits and says what to feed next.
    /// - overflow: called when `position` reaches `limit`; returns the new next position after making
    ///   room (truncation), or nil to stop with `contextFull`.
    public func run(from logits: Logits, at position: Int, step: (ArraySlice<Float>) throws -> DecodeStep,
                    overflow: ((Int) throws -> Int?)? = nil) throws -> Outcome {
        var outcome = Outcome(logits: logits, position: position, fed: 0, contextFull: false)
        guard logits.rows > 0 else { throw EngineError.emptyInput("logits to decode from (the forward pass returned no rows)") }
        while case .feed(let token) = try step(outcome.logits.last) {
            if outcome.position >= limit {
                guard let overflow, let next = try overflow(outcome.position), next < limit else {
                    outcome.contextFull = true
                    break
                }
                outcome.position = next
            }
            outcome.logits = try model.forward(tokens: [token], positions: [outcome.position], sequence: sequence, cache: cache)
            outcome.position += 1
            outcome.fed += 1
        }
        return outcome
    }

    /// Greedy decoding of `count` tokens (benchmarks, experiments): returns the tokens fed.
    public func greedy(from logits: Logits, at position: Int, count: Int) throws -> (tokens: [Int], outcome: Outcome) {
        var tokens: [Int] = []
        let outcome = try run(from: logits, at: position) { row in
            guard tokens.count < count else { return .stop }
            tokens.append(Sampler.argmax(row))
            return .feed(tokens[tokens.count - 1])
        }
        return (tokens, outcome)
    }

    /// Teacher forcing: feeds `tokens` in order and returns the logits seen before each one, `[tokens.count]` rows.
    public func force(_ tokens: [Int], from logits: Logits, at position: Int) throws -> [ArraySlice<Float>] {
        var seen: [ArraySlice<Float>] = []
        _ = try run(from: logits, at: position) { row in
            guard seen.count < tokens.count else { return .stop }
            seen.append(row)
            return .feed(tokens[seen.count - 1])
        }
        return seen
    }
}
