/// The shape of a KV cache: what every layer stores per cell.
///
/// A RoPE-aligned pruned model stores keys `keyDimension` wide (its kept rotation pairs) and values
/// `valueDimension` wide (its kept value channels) per KV head, both at most `headDimension`, which stays
/// the model's `head_dim` (it sets the attention scale). Unpruned, all three are equal.
public struct CacheGeometry: Sendable, Equatable {
    public let layers: Int
    public let kvHeads: Int
    public let headDimension: Int
    /// Floats of one KV head's key.
    public let keyDimension: Int
    /// Floats of one KV head's value.
    public let valueDimension: Int
    /// Number of cells (tokens) the cache can hold.
    public let capacity: Int

    /// - keyDimension, valueDimension: nil means `headDimension` (an unpruned model).
    public init(layers: Int, kvHeads: Int, headDimension: Int, keyDimension: Int? = nil, valueDimension: Int? = nil, capacity: Int) {
        self.layers = layers
        self.kvHeads = kvHeads
        self.headDimension = headDimension
        self.keyDimension = keyDimension ?? headDimension
        self.valueDimension = valueDimension ?? headDimension
        self.capacity = capacity
    }

    /// The same shape with another capacity.
    public func with(capacity: Int) -> CacheGeometry {
        CacheGeometry(layers: layers, kvHeads: kvHeads, headDimension: headDimension, keyDimension: keyDimension,
                      valueDimension: valueDimension, capacity: capacity)
    }

    /// Floats in one cell of one layer's K: `kvHeads * keyDimension`.
    public var keyWidth: Int { kvHeads * keyDimension }

    /// Floats in one cell of one layer's V: `kvHeads * valueDimension`.
    public var valueWidth: Int { kvHeads * valueDimension }

    /// Bytes of K and V for one token across all layers.
    public var bytesPerToken: Int { layers * (keyWidth + valueWidth) * MemoryLayout<Float>.stride }
}
