import Foundation
import Cache
import Models

/// What to do when a sequence would exceed the context window.
public enum OverflowPolicy: String, Sendable, CaseIterable, Codable {
    /// Shift the surviving cells down with one rotation (the product's way).
    case reanchor
    /// Recompute the surviving text from scratch: the quality baseline.
    case reprefill
    /// Keep the post-RoPE slice with stale rotations (relabel positions only): the failure the literature
    /// reports. For experiments only.
    case naive
}

/// Truncation on overflow: keep the first `keep` tokens (attention sinks, system prompt), drop the oldest
/// `fraction` of the rest, and restore a usable cache by `policy`.
public struct Truncation: Sendable, Equatable {
    public var policy: OverflowPolicy
    public var keep: Int
    public var fraction: Double

    public init(policy: OverflowPolicy = .reanchor, keep: Int = 4, fraction: Double = 0.5) throws {
        guard keep >= 0 else { throw EngineError.invalidParameter(name: "keep", reason: "must be >= 0, found \(keep)") }
        guard fraction > 0, fraction < 1 else {
            throw EngineError.invalidParameter(name: "fraction", reason: "must be in (0, 1), found \(fraction)")
        }
        self.policy = policy
        self.keep = keep
        self.fraction = fraction
    }

    /// Parses a policy name, with an error that lists the valid ones.
    public static func policy(named name: String) throws -> OverflowPolicy {
        guard let policy = OverflowPolicy(rawValue: name) else {
            throw EngineError.invalidParameter(name: "overflow",
                                               reason: "unknown policy '\(name)' (one of: \(OverflowPolicy.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return policy
    }

    /// How many tokens of `count` are dropped.
    public func dropped(from count: Int) -> Int {
        let rest = max(count - keep, 0)
        return min(rest, max(1, Int((Double(rest) * fraction).rounded())))
    }

    /// Truncates `tokens` (the sequence's tokens at positions `0..<tokens.count`) in `cache` and returns
    /// the seconds spent restoring a usable cache. Afterwards the sequence holds `tokens.count - dropped`
    /// tokens at positions `0..<that`, and `tokens` is updated to match.
    @discardableResult
    public func apply(to cache: KVCache, sequence: Int = 0, tokens: inout [Int], model: any CausalLanguageModel) throws -> Double {
        let count = tokens.count
        let drop = dropped(from: count)
        guard drop > 0 else {
            throw EngineError.invalidParameter(name: "keep", reason: "keeps all \(count) tokens, so nothing can be dropped")
        }
        let removed = keep..<(keep + drop)
        if policy != .reprefill, !model.rotary.scaling.composes {
            // Checked before anything is removed: moving keys is impossible under this scaling.
            throw CacheError.rotationDoesNotCompose(String(describing: model.rotary.scaling))
        }
        let survivors = Array(tokens[..<keep] + tokens[(keep + drop)...])
        let start = Clock.now()
        switch policy {
        case .reanchor:
            cache.remove(sequence: sequence, range: removed)
            if keep + drop < count { try cache.shift(sequence: sequence, range: (keep + drop)..<count, by: -drop) }
        case .naive:
            cache.remove(sequence: sequence, range: removed)
            if keep + drop < count { try cache.relabelWithoutRotation(sequence: sequence, range: (keep + drop)..<count, by: -drop) }
        case .reprefill:
            cache.remove(sequence: sequence)
            if !survivors.isEmpty {
                _ = try model.forward(tokens: survivors, positions: Array(0..<survivors.count), sequence: sequence, cache: cache, outputs: .none)
            }
        }
        let seconds = Clock.now() - start
        tokens = survivors
        return seconds
    }
}
