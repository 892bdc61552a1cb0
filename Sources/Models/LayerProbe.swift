/// A look inside one forward pass, handed to `CausalLanguageModel.forward`: attention weights of every
/// layer, and at one layer the fresh projections of every row with the choice of which rows go on.
///
/// Selective recompute (CacheBlend) uses it: the rows it drops stop at `selectionLayer`, and their cells
/// keep, from that layer up, the K/V they already held. Views are copies: nothing inside the model escapes.
public struct LayerProbe {
    /// The layer at which `select` runs, before the layer writes its K/V.
    public let selectionLayer: Int?
    /// Returns the indices (ascending, within `[0, rows)`) of the rows to keep computing. A dropped row
    /// must be at a position its sequence already held before the call. If it throws or breaks these
    /// rules, `forward` removes the call's positions from the sequence and rethrows.
    public let select: ((FreshProjections) throws -> [Int])?
    /// Receives `(layer, weights)` with the attention weights of the rows computed at that layer,
    /// `[rows, heads, n]` over the sequence's `n` cells in position order.
    public let attention: ((Int, [Float]) -> Void)?

    public init(selectionLayer: Int? = nil, select: ((FreshProjections) throws -> [Int])? = nil,
                attention: ((Int, [Float]) -> Void)? = nil) {
        self.selectionLayer = selectionLayer
        self.select = select
        self.attention = attention
    }
}

/// Selective recompute of one entry of a batched forward pass (`forward(batch:cache:selections:)`): at
/// `layer`, before that layer writes K/V, `select` receives the entry's fresh projections and returns the
/// indices (ascending, within the entry's rows) of the rows that go on. A dropped row must be at a position
/// its sequence held before the call; its cell keeps, from `layer` up, the K/V it held.
public struct RowSelection {
    public let layer: Int
    public let select: (FreshProjections) throws -> [Int]

    public init(layer: Int, select: @escaping (FreshProjections) throws -> [Int]) {
        self.layer = layer
        self.select = select
    }
}

/// The fresh Q/K/V of every row at one layer, before they are written to the cache.
public struct FreshProjections: Sendable {
    public let layer: Int
    public let heads: Int
    public let kvHeads: Int
    /// The model's `head_dim` (attention scores are scaled by `1 / sqrt(headDimension)`).
    public let headDimension: Int
    /// Widths of one head's query/key and value: `headDimension` unless the model is RoPE-aligned pruned.
    public let keyDimension: Int
    public let valueDimension: Int
    /// `[rows]` position of each row.
    public let positions: [Int]
    /// `[rows, heads, dk]` queries, rotated to their positions.
    public let queries: [Float]
    /// `[rows, kvHeads, dk]` keys, rotated to their positions.
    public let keys: [Float]
    /// `[rows, kvHeads, dv]` values.
    public let values: [Float]

    public var rows: Int { positions.count }
}
