import Cache

/// K/V the caller composed for a prompt's first tokens (document chunks from the library, re-anchored and
/// blended by a `PromptComposer`): the scheduler places it instead of computing those tokens.
public struct ComposedPrefix: Sendable {
    /// Canonical K/V of `prompt[0..<slice.count]`, at relative positions `0..<slice.count`.
    public var slice: CacheSlice
    /// Of those, tokens whose K/V came from the library and were not recomputed (`cached_tokens`).
    public var reusedTokens: Int
    /// Chunk tokens recomputed by selective recompute.
    public var recomputedTokens: Int
    /// Seconds spent composing (look-ups, misses encoded, blend) before the job was submitted: part of its TTFT.
    public var seconds: Double

    /// Throws `EngineError.invalidParameter` ("composed") unless the slice is contiguous from 0 and the counts
    /// are within it.
    public init(slice: CacheSlice, reusedTokens: Int, recomputedTokens: Int, seconds: Double) throws {
        guard slice.count > 0, slice.relativePositions == Array(0..<slice.count) else {
            throw EngineError.invalidParameter(name: "composed", reason: "the slice must hold positions 0..<\(slice.count) in order")
        }
        guard (0...slice.count).contains(reusedTokens), (0...slice.count).contains(recomputedTokens), seconds >= 0 else {
            throw EngineError.invalidParameter(name: "composed",
                                               reason: "reused \(reusedTokens) / recomputed \(recomputedTokens) of \(slice.count) tokens")
        }
        self.slice = slice
        self.reusedTokens = reusedTokens
        self.recomputedTokens = recomputedTokens
        self.seconds = seconds
    }
}
