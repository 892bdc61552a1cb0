/// The JSON header of a library entry file (see `EntryCodec` for the whole format).
struct EntryHeader: Codable, Equatable {
    /// Hex content address, which must equal the key recomputed from the fields below.
    var key: String
    /// `public` or `tenant:<id>`.
    var namespace: String
    var fingerprint: Fingerprint
    /// Tokens the chunk was encoded after.
    var context: [Int]
    var tokens: [Int]
    /// Seconds since 1970.
    var created: Double
    var layers: Int
    var kvHeads: Int
    var headDimension: Int
    /// Key and value widths per KV head of a RoPE-aligned pruned model; absent (nil) means `headDimension`.
    var keyDimension: Int?
    var valueDimension: Int?
    /// Positions relative to the chunk start: exactly `0..<tokens.count` (see `EntryRules`).
    var relativePositions: [Int]

    /// Checks every field against `limits` and, when given, the library's `model`, and returns the
    /// payload size the header implies.
    /// - Throws: `DocumentsError.invalidEntry` naming the field.
    func payloadBytes(limits: EntryLimits, model: ModelGeometry?) throws -> Int {
        let keys = keyDimension ?? headDimension
        let values = valueDimension ?? headDimension
        if let violation = EntryRules.geometryViolation(layers: layers, kvHeads: kvHeads, headDimension: headDimension,
                                                        keyDimension: keys, valueDimension: values, limits: limits, model: model)
            ?? EntryRules.cellViolation(tokens: tokens, context: context, relativePositions: relativePositions, limits: limits) {
            throw DocumentsError.invalidEntry(reason: "header " + violation)
        }
        guard created.isFinite else { throw DocumentsError.invalidEntry(reason: "header field created is \(created)") }
        guard let bytes = EntryRules.payloadBytes(layers: layers, count: tokens.count, kvHeads: kvHeads, keyDimension: keys,
                                                  valueDimension: values),
              bytes <= limits.maximumEntryBytes else {
            throw DocumentsError.invalidEntry(reason: "header implies a payload above the maximum entry size "
                                              + "\(limits.maximumEntryBytes) bytes (\(layers) layers, \(tokens.count) tokens, "
                                              + "\(kvHeads) kv heads of \(keys) + \(values))")
        }
        return bytes
    }
}
