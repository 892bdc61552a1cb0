/// The shape of a KV cache: what every layer stores per cell.
public struct CacheGeometry: Sendable, Equatable {
    public let layers: Int
    public let kvHeads: Int
    public let headDimension: Int
    /// Number of cells (tokens) the cache can hold.
    public let capacity: Int

    public init(layers: Int, kvHeads: Int, headDimension: Int, capacity: Int) {
        self.layers = layers
        self.kvHeads = kvHeads
        self.headDimension = headDimension
        self.capacity = capacity
    }

    /// Floats in one cell of one layer's K (or V): `kvHeads * headDimension`.
    public var cellWidth: Int { kvHeads * headDimension }

    /// Bytes of K and V for one token across all layers.
    public var bytesPerToken: Int { 2 * layers * cellWidth * MemoryLayout<Float>.stride }
}
