import Cache

/// K/V the caller gathered for a prompt's first tokens (a prefix and document chunks, from the library or
/// encoded on a miss): the scheduler places each part at its offset, re-anchoring its canonical keys there,
/// instead of computing those tokens. With `blend`, the chunk tokens then run with the query's first rows in
/// one of the scheduler's batched steps, under selective recompute (`RowSelection.blend`), so that reused
/// prompts batch with every other sequence rather than queueing for a model of their own.
public struct ComposedPrefix: Sendable {
    /// A slice placed at `offset`.
    public struct Part: Sendable {
        /// Canonical K/V at relative positions `0..<slice.count`.
        public var slice: CacheSlice
        public var offset: Int
        /// Served from the library (counted in `cached_tokens` unless recomputed), or encoded for this request.
        public var fromLibrary: Bool
        /// A document chunk (which `blend` ranks and may recompute), or the prompt's prefix.
        public var isChunk: Bool

        public init(slice: CacheSlice, offset: Int, fromLibrary: Bool, isChunk: Bool) {
            self.slice = slice
            self.offset = offset
            self.fromLibrary = fromLibrary
            self.isChunk = isChunk
        }

        var positions: Range<Int> { offset..<(offset + slice.count) }
    }

    /// `prompt[0..<tokens.count]`: the tokens the parts hold, in order.
    public let tokens: [Int]
    /// Contiguous from position 0, in order, covering `tokens`.
    public let parts: [Part]
    /// Selective recompute of the chunk tokens with the query (nil: the parts are used as they are, `anchored`).
    public let blend: BlendParameters?
    /// Seconds spent composing (look-ups, misses encoded) before the job was submitted: part of its TTFT.
    public let seconds: Double

    /// Throws `EngineError.invalidParameter` ("composed") unless the parts are non-empty, contiguous from 0,
    /// cover exactly `tokens`, and each slice holds positions `0..<count` in order.
    public init(tokens: [Int], parts: [Part], blend: BlendParameters?, seconds: Double) throws {
        var next = 0
        for part in parts {
            guard part.slice.count > 0, part.offset == next, part.slice.relativePositions == Array(0..<part.slice.count) else {
                throw EngineError.invalidParameter(name: "composed", reason: "parts must be non-empty slices of positions 0..<count, "
                                                   + "contiguous from 0; found one of \(part.slice.count) at \(part.offset), expected \(next)")
            }
            next += part.slice.count
        }
        guard next > 0, next == tokens.count, seconds >= 0 else {
            throw EngineError.invalidParameter(name: "composed", reason: "parts cover \(next) of \(tokens.count) tokens")
        }
        self.tokens = tokens
        self.parts = parts
        self.blend = blend
        self.seconds = seconds
    }

    /// Tokens served from the library.
    public var libraryTokens: Int { parts.reduce(0) { $0 + ($1.fromLibrary ? $1.slice.count : 0) } }

    /// Library tokens the composition keeps as they are: all of them, less blend's recomputed share of the chunks.
    public var keptTokens: Int {
        guard let blend else { return libraryTokens }
        return max(0, libraryTokens - blend.recomputedCount(of: chunkPositions.count))
    }

    /// Positions of the chunk tokens, ascending.
    var chunkPositions: [Int] { parts.filter(\.isChunk).flatMap { Array($0.positions) } }

    /// Positions served from the library.
    var libraryPositions: Set<Int> { Set(parts.filter(\.fromLibrary).flatMap { Array($0.positions) }) }
}
