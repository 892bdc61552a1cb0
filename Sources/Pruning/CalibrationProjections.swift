import Models

/// The fresh projections of every layer on a calibration text: what the pair and channel scores read.
///
/// One forward pass per layer over the calibration tokens at positions `0..<T` (from an empty cache), with
/// a probe that copies that layer's projections and keeps every row, so the model runs exactly as usual.
public struct CalibrationProjections {
    /// Per layer: queries `[T, heads, d]` and keys `[T, kvHeads, d]` rotated to their positions, values `[T, kvHeads, d]`.
    public let layers: [FreshProjections]

    /// - tokens: at least 2 and at most the model's window.
    public init(model: LlamaModel, tokens: [Int]) throws {
        guard model.config.pruning == nil else {
            throw PruningError.invalidParameter(name: "--model", reason: "is already pruned: prune the original checkpoint")
        }
        guard tokens.count >= 2, tokens.count <= model.config.maxPositionEmbeddings else {
            throw PruningError.invalidParameter(name: "calibration tokens",
                                                reason: "must be 2 to \(model.config.maxPositionEmbeddings) (the model's window), found \(tokens.count)")
        }
        layers = try (0..<model.config.layers).map { layer in
            var captured: FreshProjections?
            let probe = LayerProbe(selectionLayer: layer, select: { fresh in
                captured = fresh
                return Array(0..<fresh.rows)
            })
            let cache = model.makeCache(capacity: tokens.count)
            _ = try model.forward(tokens: tokens, positions: Array(0..<tokens.count), cache: cache, outputs: .none, probe: probe)
            guard let captured else { throw PruningError.invalidParameter(name: "calibration", reason: "produced no projections at layer \(layer)") }
            return captured
        }
    }
}
