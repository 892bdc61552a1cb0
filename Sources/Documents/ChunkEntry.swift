import Cache
import Foundation
import Kernels

/// One cached chunk: canonical keys and values of every layer for its tokens, plus what proves it valid.
public struct ChunkEntry: Sendable, Equatable {
    public let key: ChunkKey
    public let namespace: Namespace
    public let fingerprint: Fingerprint
    /// Tokens the chunk was encoded after (BOS, system prompt): its K/V depend on them.
    public let context: [Int]
    public let tokens: [Int]
    public let created: Date
    /// Canonical K and V per layer, positions relative to the chunk start: exactly the values `format` stores,
    /// so every tier (memory, disk, remote) serves the same floats.
    public let slice: CacheSlice
    /// How the disk and remote tiers store the K/V.
    public let format: KVFormat

    /// - slice: the chunk's K/V in f32; with a compact `format` they are rounded to what it stores. An entry
    ///   that holds a value the format cannot represent (beyond f16's range, not finite) keeps f32 (`format`
    ///   then says `f32`).
    public init(namespace: Namespace, fingerprint: Fingerprint, context: [Int] = [], tokens: [Int], slice: CacheSlice,
                format: KVFormat = .f32, created: Date = Date()) {
        var stored = (slice: slice, format: KVFormat.f32)
        if format != .f32 {
            let geometry = slice.geometry
            let keys = slice.keys.map { format.rounded($0, columns: geometry.keyDimension) }
            let values = slice.values.map { format.rounded($0, columns: geometry.valueDimension) }
            if keys.allSatisfy({ $0 != nil }), values.allSatisfy({ $0 != nil }) {
                stored = (CacheSlice(geometry: geometry, relativePositions: slice.relativePositions, keys: keys.compactMap { $0 },
                                     values: values.compactMap { $0 }), format)
            }
        }
        self.init(namespace: namespace, fingerprint: fingerprint, context: context, tokens: tokens, slice: stored.slice,
                  exactIn: stored.format, created: created)
    }

    /// An entry whose `slice` already holds values `format` represents exactly (a decoded entry).
    init(namespace: Namespace, fingerprint: Fingerprint, context: [Int], tokens: [Int], slice: CacheSlice, exactIn format: KVFormat,
         created: Date) {
        self.key = ChunkKey(fingerprint: fingerprint, namespace: namespace, context: context, tokens: tokens)
        self.namespace = namespace
        self.fingerprint = fingerprint
        self.context = context
        self.tokens = tokens
        self.created = created
        self.slice = slice
        self.format = format
    }

    /// Bytes of K/V held in memory (f32).
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
                                                    keyDimension: geometry.keyDimension, valueDimension: geometry.valueDimension,
                                                    format: format),
              payload <= limits.maximumEntryBytes else {
            return "\(tokens.count) tokens of \(geometry.layers) layers are above the maximum entry size \(limits.maximumEntryBytes) bytes"
        }
        // Both <= count * kvHeads * (keyDimension + valueDimension) * layers, bounded by the limits.
        for (name, tensors, floats) in [("keys", slice.keys, tokens.count * geometry.keyWidth),
                                        ("values", slice.values, tokens.count * geometry.valueWidth)] {
            guard tensors.count == geometry.layers else { return "\(name) has \(tensors.count) layers, the geometry \(geometry.layers)" }
            for (layer, tensor) in tensors.enumerated() {
                guard tensor.count == floats else { return "\(name) of layer \(layer) has \(tensor.count) floats, expected \(floats)" }
                if let index = tensor.withUnsafeBufferPointer({ buffer in
                    buffer.baseAddress.flatMap { EntryKernels.firstNonFinite($0, count: buffer.count) }
                }) {
                    return "\(name) of layer \(layer) holds \(tensor[index]) at float \(index)"
                }
            }
        }
        return nil
    }
}
