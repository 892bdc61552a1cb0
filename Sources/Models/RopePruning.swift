import Foundation

/// What a RoPE-aligned (or channel-) pruned checkpoint kept: the `config.json` extension `rope_aligned_pruning`.
///
/// ```json
/// "rope_aligned_pruning": {
///   "method": "rap",
///   "score": "energy",
///   "kept_pairs": [[[0, 1, 4, ...], ...], ...],
///   "lone_channels": [[[3, 27, ...], ...], ...],
///   "kept_value_channels": [[[0, 2, 3, ...], ...], ...]
/// }
/// ```
/// `kept_pairs[l][h]` lists, ascending, the RoPE pairs KV head `h` of layer `l` keeps: pair `i` is
/// dimensions `i` and `i + head_dim/2` of the original head (the Hugging Face half-split layout) and keeps
/// its original frequency. `lone_channels[l][h]` (optional; absent or empty: none, as `rap` writes) lists
/// single q/k dimensions kept without their partner (what RoPE-blind `channel` pruning keeps). With the
/// partner `p` zeroed in both `q` and `k`, the pair's term in the rotated `q_t · k_s` is
/// `q_c k_c cos((t - s) ω)`: still relative-position dependent, so a lone channel is not position-free and
/// is stored as its pair, at the pair's frequency, with a zero row in place of the partner (exact, and
/// re-anchorable like any pair, but it costs a whole pair of cache width for one useful dimension).
///
/// A head's rotation slots are its kept pairs, then one per lone channel: `S = pairs + lone`, the same for
/// every head of every layer, so `k_proj` has `2 S` rows per KV head (slot `j` at rows `j` and `j + S`)
/// and `q_proj` the same rows for each query head of the group. `kept_value_channels[l][h]` lists
/// the `dv` value channels kept (rows of `v_proj`, and the matching input columns of `o_proj` for every
/// query head of the group). `head_dim` stays the original width: it sets the attention scale
/// `1 / sqrt(head_dim)`. Other tools see a normal checkpoint with smaller `q/k/v/o_proj` shapes plus this field.
public struct RopePruning: Sendable, Equatable {
    /// How the dims were chosen (`rap` or `channel`), and the score used; informational, but fingerprinted.
    public let method: String
    public let score: String
    /// `[layers][kvHeads][pairs]` original pair indices, ascending, each below `head_dim / 2`.
    public let keptPairs: [[[Int]]]
    /// `[layers][kvHeads][lone]` original q/k dims kept without their partner, ascending, each below
    /// `head_dim`; empty (`[]`) when none anywhere.
    public let loneChannels: [[[Int]]]
    /// `[layers][kvHeads][dv]` original value channels, ascending, each below `head_dim`.
    public let keptValueChannels: [[[Int]]]

    public init(method: String, score: String, keptPairs: [[[Int]]], loneChannels: [[[Int]]] = [], keptValueChannels: [[[Int]]]) {
        self.method = method
        self.score = score
        self.keptPairs = keptPairs
        self.loneChannels = loneChannels.joined().allSatisfy(\.isEmpty) ? [] : loneChannels
        self.keptValueChannels = keptValueChannels
    }

    /// The lone channels of layer `layer`, KV head `head` (empty when none).
    public func lone(layer: Int, head: Int) -> [Int] {
        guard layer < loneChannels.count, head < loneChannels[layer].count else { return [] }
        return loneChannels[layer][head]
    }

    /// Rotation slots per head, `S`: kept pairs plus lone channels (equal in every head).
    public var slotsPerHead: Int { (keptPairs.first?.first?.count ?? 0) + lone(layer: 0, head: 0).count }
    /// Width of one head's query and key: `2 S`.
    public var keyDimension: Int { 2 * slotsPerHead }
    /// Width of one head's value.
    public var valueDimension: Int { keptValueChannels.first?.first?.count ?? 0 }
    /// Kept (nonzero) q/k dims of the first head: `2 pairs + lone`.
    public var keptKeyChannels: Int { 2 * (keptPairs.first?.first?.count ?? 0) + lone(layer: 0, head: 0).count }

    /// `[layers][kvHeads][S]` the RoPE pair each rotation slot rotates as: the kept pairs, then the pair of
    /// each lone channel (`c mod d/2`). Needs `d`, the original head width.
    public func rotarySlots(headDimension d: Int) -> [[[Int]]] {
        keptPairs.enumerated().map { layer, heads in
            heads.enumerated().map { head, pairs in pairs + lone(layer: layer, head: head).map { $0 % (d / 2) } }
        }
    }

    /// Rows of one original head (`d` wide) that the pruned head of layer `layer`, KV head `head` holds, in
    /// pruned order: each slot's first half, then each slot's second half; nil is a zero row (the dropped
    /// partner of a lone channel).
    public func keyRows(layer: Int, head: Int, headDimension d: Int) -> [Int?] {
        let lone = lone(layer: layer, head: head)
        let pairs = keptPairs[layer][head]
        return pairs.map { Optional($0) } + lone.map { $0 < d / 2 ? $0 : nil }
            + pairs.map { Optional($0 + d / 2) } + lone.map { $0 >= d / 2 ? $0 : nil }
    }

    /// One line for the fingerprint's canonical description (unchanged for files without lone channels).
    var canonicalDescription: String {
        func lists(_ value: [[[Int]]]) -> String {
            value.map { layer in layer.map { $0.map(String.init).joined(separator: ",") }.joined(separator: "/") }.joined(separator: ";")
        }
        let lone = loneChannels.isEmpty ? "" : ",lone_channels=\(lists(loneChannels))"
        return "rope_aligned_pruning=method=\(method),score=\(score),kept_pairs=\(lists(keptPairs))\(lone),kept_value_channels=\(lists(keptValueChannels))"
    }

    /// The field as JSON (what `init(fields:)` reads back), for writing a checkpoint's `config.json`.
    public var jsonObject: [String: Any] {
        var object: [String: Any] = ["method": method, "score": score, "kept_pairs": keptPairs, "kept_value_channels": keptValueChannels]
        if !loneChannels.isEmpty { object["lone_channels"] = loneChannels }
        return object
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
        let lone: [[[Int]]]
        switch fields.json["lone_channels"] {
        case nil, .null?: lone = []
        default: lone = try lists("lone_channels")
        }
        self.init(method: try fields.string("method") ?? "rap", score: try fields.string("score") ?? "unknown",
                  keptPairs: try lists("kept_pairs"), loneChannels: lone, keptValueChannels: try lists("kept_value_channels"))
    }
}
