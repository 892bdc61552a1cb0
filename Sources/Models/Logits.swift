/// Output rows of a forward pass: `values` is `[rows, vocabularySize]`, row `i` for `tokenIndices[i]`.
public struct Logits: Sendable {
    public let vocabularySize: Int
    /// Index in the forward call's token list of each row.
    public let tokenIndices: [Int]
    public let values: [Float]

    public var rows: Int { tokenIndices.count }

    /// The logits of row `row` (`[vocabularySize]`).
    public func row(_ row: Int) -> ArraySlice<Float> {
        values[(row * vocabularySize)..<((row + 1) * vocabularySize)]
    }

    /// The logits of the last row, or an empty slice when the call produced none.
    public var last: ArraySlice<Float> { rows > 0 ? row(rows - 1) : values[0..<0] }
}

/// Which tokens of a forward call need logits.
public enum LogitRows: Sendable, Equatable {
    /// Only the last token (generation).
    case last
    /// Every token (scoring, perplexity, tests).
    case all
    /// None: only fill the cache (prefilling context).
    case none
}
