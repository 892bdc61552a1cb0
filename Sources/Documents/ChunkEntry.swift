import Cache
import Foundation

/// One cached chunk: canonical keys and values of every layer for its tokens, plus what proves it valid.
public struct ChunkEntry: Sendable, Equatable {
    public let key: ChunkKey
    public let namespace: Namespace
    public let fingerprint: Fingerprint
    /// Tokens the chunk was encoded after (BOS, system prompt): its K/V depend on them.
    public let context: [Int]
    public let tokens: [Int]
    public let created: Date
    /// Canonical K and V per layer, positions relative to the chunk start.
    public let slice: CacheSlice

    public init(namespace: Namespace, fingerprint: Fingerprint, context: [Int] = [], tokens: [Int], slice: CacheSlice,
                created: Date = Date()) {
        self.key = ChunkKey(fingerprint: fingerprint, namespace: namespace, context: context, tokens: tokens)
        self.namespace = namespace
        self.fingerprint = fingerprint
        self.context = context
        self.tokens = tokens
        self.created = created
        self.slice = slice
    }

    /// Bytes of K/V held.
    public var byteCount: Int { slice.byteCount }
}

extension ChunkEntry {
    /// Why this entry could not be served to a model of geometry `model` (the rules of `EntryRules`, plus
    /// tensor sizes and finite values), or nil. The library refuses to store what it would refuse to serve.
    func violation(limits: EntryLimits, model: ModelGeometry?) -> String? {
        let geometry = slice.geometry
        if let violation = EntryRules.geometryViolation(layers: geometry.layers, kvHeads: geometry.kvHeads,
                                                        headDimension: geometry.headDimension, keyDimension: geometry.keyDimension,
                                                        valueDimension: geometry.valueDimension, limits: limits, model: model)
            ?? EntryRules.cellViolation(tokens: tokens, context: context, relativePositions: slice.relativePositions, limits: limits) {
            return violation
        }
        guard let payload = EntryRules.payloadBytes(layers: geometry.layers, count: tokens.count, kvHeads: geometry.kvHeads,
                                                    keyDimension: geometry.keyDimension, valueDimension: geometry.valueDimension),
              payload <= limits.maximumEntryBytes else {
            return "\(tokens.count) tokens of \(geometry.layers) layers are above the maximum entry size \(limits.maximumEntryBytes) bytes"
        }
        // Both <= payload, which did not overflow.
        for (name, tensors, floats) in [("keys", slice.keys, tokens.count * geometry.keyWidth),
                                        ("values", slice.values, tokens.count * geometry.valueWidth)] {
            guard tensors.count == geometry.layers else { return "\(name) has \(tensors.count) layers, the geometry \(geometry.layers)" }
            for (layer, tensor) in tensors.enumerated() {
                guard tensor.count == floats else { return "\(name) of layer \(layer) has \(tensor.count) floats, expected \(floats)" }
                if let index = tensor.firstIndex(where: { !$0.isFinite }) {
                    return "\(name) of layer \(layer) holds \(tensor[index]) at float \(index)"
                }
            }
        }
        return nil
    }
}
