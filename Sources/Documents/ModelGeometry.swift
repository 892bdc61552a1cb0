import Cache

/// The K/V shape of the library's fingerprinted model: what every entry must have to be served.
/// Entries whose geometry differs were made by another model (or are forged) and are discarded.
public struct ModelGeometry: Sendable, Hashable, CustomStringConvertible {
    public let layers: Int
    public let kvHeads: Int
    public let headDimension: Int
    /// Key and value widths per KV head: `headDimension` unless the model is RoPE-aligned pruned.
    public let keyDimension: Int
    public let valueDimension: Int

    /// - keyDimension, valueDimension: nil means `headDimension`; else within `1...headDimension`.
    /// - Throws: `DocumentsError.invalidGeometry` naming the field that is not positive or above `limits`.
    public init(layers: Int, kvHeads: Int, headDimension: Int, keyDimension: Int? = nil, valueDimension: Int? = nil,
                limits: EntryLimits = .standard) throws {
        let key = keyDimension ?? headDimension
        let value = valueDimension ?? headDimension
        for (field, value, maximum) in [("layers", layers, limits.maximumLayers), ("kvHeads", kvHeads, limits.maximumKVHeads),
                                        ("headDimension", headDimension, limits.maximumHeadDimension),
                                        ("keyDimension", key, headDimension), ("valueDimension", value, headDimension)] {
            guard value > 0 else { throw DocumentsError.invalidGeometry(field: field, value: value, reason: "must be positive") }
            guard value <= maximum else {
                throw DocumentsError.invalidGeometry(field: field, value: value, reason: "above the library's maximum \(maximum)")
            }
        }
        self.layers = layers
        self.kvHeads = kvHeads
        self.headDimension = headDimension
        self.keyDimension = key
        self.valueDimension = value
    }

    /// The geometry of a model's cache (its capacity does not matter).
    public init(_ cache: CacheGeometry, limits: EntryLimits = .standard) throws {
        try self.init(layers: cache.layers, kvHeads: cache.kvHeads, headDimension: cache.headDimension,
                      keyDimension: cache.keyDimension, valueDimension: cache.valueDimension, limits: limits)
    }

    /// Floats in one cell of one layer's K: `kvHeads * keyDimension` (cannot overflow: both are bounded).
    public var keyWidth: Int { kvHeads * keyDimension }

    /// Why an entry of this shape is not for this model, or nil when it is.
    func mismatch(layers: Int, kvHeads: Int, headDimension: Int, keyDimension: Int, valueDimension: Int) -> String? {
        let differences = [("layers", layers, self.layers), ("kvHeads", kvHeads, self.kvHeads),
                           ("headDimension", headDimension, self.headDimension),
                           ("keyDimension", keyDimension, self.keyDimension), ("valueDimension", valueDimension, self.valueDimension)]
            .filter { $0.1 != $0.2 }
            .map { "\($0.0) is \($0.1), the model has \($0.2)" }
        return differences.isEmpty ? nil : differences.joined(separator: "; ")
    }

    public var description: String {
        let pruned = keyDimension == headDimension && valueDimension == headDimension ? ""
            : " (keys \(keyDimension), values \(valueDimension))"
        return "\(layers) layers x \(kvHeads) kv heads x \(headDimension)" + pruned
    }
}
