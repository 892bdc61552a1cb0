import Foundation

/// What a RoPE-aligned pruned checkpoint kept: the `config.json` extension `rope_aligned_pruning`.
///
/// ```json
/// "rope_aligned_pruning": {
///   "method": "rap",
///   "score": "energy",
///   "kept_pairs": [[[0, 1, 4, ...], ...], ...],
///   "kept_value_channels": [[[0, 2, 3, ...], ...], ...]
/// }
/// ```
/// `kept_pairs[l][h]` lists, ascending, the RoPE pairs KV head `h` of layer `l` keeps: pair `i` is
/// dimensions `i` and `i + head_dim/2` of the original head (the Hugging Face half-split layout) and keeps
/// its original frequency. Every head of every layer keeps the same number `P >= 1` of pairs, so `k_proj`
/// has `2 P` rows per KV head (kept pair `j` at rows `j` and `j + P`) and `q_proj` the same rows for each
/// query head of the group. `kept_value_channels[l][h]` lists the `dv` value channels kept (rows of
/// `v_proj`, and the matching input columns of `o_proj` for every query head of the group). `head_dim`
/// stays the original width: it sets the attention scale `1 / sqrt(head_dim)`. Other tools see a normal
/// checkpoint with smaller `q/k/v/o_proj` shapes plus this field.
public struct RopePruning: Sendable, Equatable {
    /// How the pairs were chosen (`rap`), and the score used; informational, but fingerprinted.
    public let method: String
    public let score: String
    /// `[layers][kvHeads][P]` original pair indices, ascending, each below `head_dim / 2`.
    public let keptPairs: [[[Int]]]
    /// `[layers][kvHeads][dv]` original value channels, ascending, each below `head_dim`.
    public let keptValueChannels: [[[Int]]]

    public init(method: String, score: String, keptPairs: [[[Int]]], keptValueChannels: [[[Int]]]) {
        self.method = method
        self.score = score
        self.keptPairs = keptPairs
        self.keptValueChannels = keptValueChannels
    }

    /// Kept pairs per head, `P`.
    public var pairsPerHead: Int { keptPairs.first?.first?.count ?? 0 }
    /// Width of one head's query and key: `2 P`.
    public var keyDimension: Int { 2 * pairsPerHead }
    /// Width of one head's value.
    public var valueDimension: Int { keptValueChannels.first?.first?.count ?? 0 }

    /// One line for the fingerprint's canonical description.
    var canonicalDescription: String {
        func lists(_ value: [[[Int]]]) -> String {
            value.map { layer in layer.map { $0.map(String.init).joined(separator: ",") }.joined(separator: "/") }.joined(separator: ";")
        }
        return "rope_aligned_pruning=method=\(method),score=\(score),kept_pairs=\(lists(keptPairs)),kept_value_channels=\(lists(keptValueChannels))"
    }

    /// Throws `ModelError.invalidConfig` naming the field unless every list is regular for `layers` x
    /// `kvHeads` heads of `headDimension`, ascending, in range and non-empty.
    func validate(layers: Int, kvHeads: Int, headDimension: Int, file: String) throws {
        let field = "rope_aligned_pruning."
        func check(_ value: [[[Int]]], _ name: String, bound: Int) throws {
            let fail = { (reason: String) in ModelError.invalidConfig(file: file, field: field + name, reason: reason) }
            guard value.count == layers else { throw fail("must list \(layers) layers, found \(value.count)") }
            let width = value.first?.first?.count ?? 0
            guard width >= 1, width <= bound else { throw fail("must keep between 1 and \(bound) per head, found \(width)") }
            for (layer, heads) in value.enumerated() {
                guard heads.count == kvHeads else { throw fail("[\(layer)] must list \(kvHeads) KV heads, found \(heads.count)") }
                for (head, kept) in heads.enumerated() {
                    guard kept.count == width else {
                        throw fail("[\(layer)][\(head)] keeps \(kept.count), every head must keep the same number (\(width))")
                    }
                    for (index, item) in kept.enumerated() {
                        guard item >= 0, item < bound else { throw fail("[\(layer)][\(head)] holds \(item), outside [0, \(bound))") }
                        guard index == 0 || kept[index - 1] < item else {
                            throw fail("[\(layer)][\(head)] must be strictly ascending, found \(kept.prefix(index + 1))")
                        }
                    }
                }
            }
        }
        try check(keptPairs, "kept_pairs", bound: headDimension / 2)
        try check(keptValueChannels, "kept_value_channels", bound: headDimension)
    }

    /// The field as JSON (what `init(fields:)` reads back), for writing a checkpoint's `config.json`.
    public var jsonObject: [String: Any] {
        ["method": method, "score": score, "kept_pairs": keptPairs, "kept_value_channels": keptValueChannels]
    }
}

extension RopePruning {
    /// Reads the field from a config's `rope_aligned_pruning` object.
    init(fields: Fields) throws {
        func lists(_ key: String) throws -> [[[Int]]] {
            let wrong = ModelError.invalidConfig(file: fields.file, field: fields.prefix + key,
                                                 reason: "must be a list (layers) of lists (KV heads) of integer lists")
            guard case .array(let layers)? = fields.json[key] else { throw wrong }
            return try layers.map { layer in
                guard case .array(let heads) = layer else { throw wrong }
                return try heads.map { head in
                    guard case .array(let items) = head else { throw wrong }
                    return try items.map { item in
                        guard case .int(let value) = item else { throw wrong }
                        return value
                    }
                }
            }
        }
        self.init(method: try fields.string("method") ?? "rap", score: try fields.string("score") ?? "unknown",
                  keptPairs: try lists("kept_pairs"), keptValueChannels: try lists("kept_value_channels"))
    }
}
