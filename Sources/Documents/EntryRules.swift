/// The rules every library entry obeys, checked the same way for a file being read (`EntryCodec.decode`)
/// and for a chunk being stored (`ChunkEntry.violation`), so the library stores exactly what it would serve.
///
/// A chunk's cells are its tokens, encoded at consecutive positions from the chunk start: relative positions
/// are exactly `0, 1, ..., count - 1` (so they start at 0, are non-negative and strictly increasing without
/// gaps). The prompt composer places a chunk of `n` tokens on `n` consecutive positions; any other layout
/// (shifted, negative, repeated or with gaps) would put keys where the composer does not expect them.
enum EntryRules {
    /// Why the geometry fields are unacceptable (not positive, above `limits`, not `model`'s), or nil.
    static func geometryViolation(layers: Int, kvHeads: Int, headDimension: Int, keyDimension: Int, valueDimension: Int,
                                  limits: EntryLimits, model: ModelGeometry?) -> String? {
        for (field, value, maximum) in [("layers", layers, limits.maximumLayers), ("kvHeads", kvHeads, limits.maximumKVHeads),
                                        ("headDimension", headDimension, limits.maximumHeadDimension),
                                        ("keyDimension", keyDimension, headDimension), ("valueDimension", valueDimension, headDimension)]
        where value < 1 || value > maximum {  // not `1...maximum`: a range traps when a caller sets a maximum below 1
            return "field \(field) is \(value), outside 1...\(maximum)"
        }
        if let model, let mismatch = model.mismatch(layers: layers, kvHeads: kvHeads, headDimension: headDimension,
                                                          keyDimension: keyDimension, valueDimension: valueDimension) {
            return "made for another model geometry: \(mismatch)"
        }
        return nil
    }

    /// Why the token lists and relative positions are unacceptable, or nil.
    static func cellViolation(tokens: [Int], context: [Int], relativePositions: [Int], limits: EntryLimits) -> String? {
        guard !tokens.isEmpty else { return "field tokens is empty" }
        guard tokens.count <= limits.maximumTokens else {
            return "field tokens has \(tokens.count) ids, more than \(limits.maximumTokens)"
        }
        guard context.count <= limits.maximumTokens else {
            return "field context has \(context.count) ids, more than \(limits.maximumTokens)"
        }
        guard relativePositions.count == tokens.count else {
            return "field relativePositions has \(relativePositions.count) cells for \(tokens.count) tokens"
        }
        if let index = relativePositions.indices.first(where: { relativePositions[$0] != $0 }) {
            return "field relativePositions[\(index)] is \(relativePositions[index]), expected \(index) "
                + "(a chunk's positions are 0, 1, ..., count - 1)"
        }
        for (field, list) in [("tokens", tokens), ("context", context)] {
            if let index = list.firstIndex(where: { $0 < 0 }) { return "field \(field)[\(index)] is \(list[index]), a negative token id" }
        }
        return nil
    }

    /// Bytes of K/V payload for `count` cells (keys and values of every layer, f32), or nil when the product
    /// overflows. Callers have bounded every factor, so nil only follows from limits raised past `Int`.
    static func payloadBytes(layers: Int, count: Int, kvHeads: Int, keyDimension: Int, valueDimension: Int) -> Int? {
        let (width, overflow) = keyDimension.addingReportingOverflow(valueDimension)
        guard !overflow else { return nil }
        return checkedProduct(layers, count, kvHeads, width, MemoryLayout<Float>.size)
    }
}
