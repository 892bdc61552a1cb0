/// One sequence's share of a batched forward pass (continuous batching): its tokens at their positions,
/// and which of them need logits. Several of these, for distinct sequences, run as one pass in which every
/// projection and MLP is one matrix product over all their rows and each sequence attends to its own cells.
public struct SequenceRows: Sendable, Equatable {
    public var sequence: Int
    /// `[T]` token ids.
    public var tokens: [Int]
    /// `[T]` positions, distinct.
    public var positions: [Int]
    public var outputs: LogitRows

    public init(sequence: Int, tokens: [Int], positions: [Int], outputs: LogitRows = .last) {
        self.sequence = sequence
        self.tokens = tokens
        self.positions = positions
        self.outputs = outputs
    }
}

/// Rows `[rows.lowerBound, rows.upperBound)` of a batched pass belong to `sequence`.
struct RowSegment {
    let rows: Range<Int>
    let sequence: Int
}
