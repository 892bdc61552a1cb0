import Engine
import Foundation
import Cache
import Models

/// Reproduces the "pre-RoPE vs post-RoPE" comparison on this machine:
/// 1. cost of each key-storage mode (TTFT, decode speed) at several context lengths;
/// 2. truncation on overflow: time to restore a usable cache per policy, and the perplexity of the text
///    that follows, for several drop fractions and with and without attention sinks.
public struct RopeModesExperiment {
    public struct CostRow: Codable, Sendable {
        public var mode: String
        public var context: Int
        public var ttft_ms: Double
        public var decode_tok_s: Double
        public var ttft_ratio_to_post: Double
        public var decode_ratio_to_post: Double
    }

    public struct TruncationRow: Codable, Sendable {
        public var policy: String
        public var model: String
        public var context: Int
        public var fraction: Double
        public var keep: Int
        public var restore_ms: Double
        /// Perplexity of the following text; nil for random-weight timing runs.
        public var perplexity: Double?
        public var perplexity_ratio_to_reprefill: Double?
        public var restore_speedup_vs_reprefill: Double
    }

    public struct Report: Codable, Sendable {
        public var cost_model: String
        public var quality_model: String?
        public var cost: [CostRow]
        public var truncation: [TruncationRow]

        public init(cost_model: String, quality_model: String?, cost: [CostRow], truncation: [TruncationRow]) {
            self.cost_model = cost_model
            self.quality_model = quality_model
            self.cost = cost
            self.truncation = truncation
        }
    }

    public var contexts: [Int]
    public var fractions: [Double] = [0.25, 0.5, 0.75]
    public var keeps: [Int] = [0, 4]
    /// Decode steps timed per mode and context.
    public var decodeSteps = 16
    /// Each mode is measured this many times, interleaved with the others; the best time counts.
    public var repeats = 2
    /// Tokens scored after a truncation.
    public var continuation = 256

    public init(contexts: [Int]) throws {
        guard !contexts.isEmpty, contexts.allSatisfy({ $0 >= 64 }) else {
            throw EngineError.invalidParameter(name: "contexts", reason: "needs one or more context lengths >= 64")
        }
        self.contexts = contexts
    }

    /// Deterministic pseudo-random token ids for timing runs.
    static func syntheticTokens(_ count: Int, vocabulary: Int) -> [Int] {
        (0..<count).map { ($0 &* 2_654_435_761 &+ 12_345) % vocabulary }
    }

    /// Part 1: TTFT and decode speed of every mode at every context, modes interleaved per context.
    public func measureCost(model: any CausalLanguageModel, progress: (String) -> Void) throws -> [CostRow] {
        var rows: [CostRow] = []
        for context in contexts {
            let prompt = Self.syntheticTokens(context - decodeSteps, vocabulary: model.config.vocabularySize)
            var measured: [KeyStorage: (ttft: Double, decode: Double)] = [:]
            // Warm-up: page in weights and size scratch space before anything is timed.
            _ = try model.forward(tokens: Array(prompt.prefix(64)), positions: Array(0..<min(64, prompt.count)),
                                  cache: model.makeCache(capacity: 64))
            for _ in 0..<repeats {
                for mode in [KeyStorage.post, .pre, .anchored] {
                    progress("cost: \(mode.rawValue) at context \(context)")
                    let cache = model.makeCache(capacity: context, storage: mode)
                    let start = Clock.now()
                    let logits = try model.forward(tokens: prompt, positions: Array(0..<prompt.count), cache: cache)
                    let ttft = Clock.now() - start
                    let decodeStart = Clock.now()
                    _ = try DecodeLoop(model: model, cache: cache).greedy(from: logits, at: prompt.count, count: decodeSteps)
                    let decode = Double(decodeSteps) / (Clock.now() - decodeStart)
                    let best = measured[mode] ?? (.infinity, 0)
                    measured[mode] = (min(best.ttft, ttft), max(best.decode, decode))
                }
            }
            guard let post = measured[.post] else { continue }
            for mode in [KeyStorage.post, .pre, .anchored] {
                guard let m = measured[mode] else { continue }
                rows.append(CostRow(mode: mode.rawValue, context: context, ttft_ms: m.ttft * 1000, decode_tok_s: m.decode,
                                    ttft_ratio_to_post: m.ttft / post.ttft, decode_ratio_to_post: m.decode / post.decode))
            }
        }
        return rows
    }

    /// Part 2: restore time per policy, and (with `text`) perplexity of the `continuation` tokens that follow
    /// a full context. `text` holds token ids of real text, at least `context + continuation` long.
    public func measureTruncation(model: any CausalLanguageModel, label: String, contexts: [Int], text: [Int]?,
                                  progress: (String) -> Void) throws -> [TruncationRow] {
        var rows: [TruncationRow] = []
        let bos = model.config.bosTokenID
        for context in contexts {
            let fill: [Int]
            let following: [Int]
            if let text {
                let body = context - (bos == nil ? 0 : 1)
                guard text.count >= body + continuation else {
                    throw EngineError.invalidParameter(name: "text", reason: "needs \(body + continuation) tokens for context \(context), has \(text.count)")
                }
                fill = (bos.map { [$0] } ?? []) + text[0..<body]
                following = Array(text[body..<(body + continuation)])
            } else {
                fill = Self.syntheticTokens(context, vocabulary: model.config.vocabularySize)
                following = []
            }
            for fraction in fractions {
                for keep in keeps {
                    var measured: [OverflowPolicy: (ms: Double, perplexity: Double?)] = [:]
                    for policy in [OverflowPolicy.reprefill, .reanchor, .naive] {
                        progress("truncation: \(policy.rawValue) context \(context) fraction \(fraction) keep \(keep)")
                        let cache = model.makeCache(capacity: context + following.count, storage: .anchored)
                        _ = try model.forward(tokens: fill, positions: Array(0..<fill.count), cache: cache, outputs: .none)
                        var tokens = fill
                        let seconds = try Truncation(policy: policy, keep: keep, fraction: fraction)
                            .apply(to: cache, tokens: &tokens, model: model)
                        var perplexity: Double? = nil
                        if following.count >= 2 {
                            let logits = try model.forward(tokens: following, positions: Array(tokens.count..<(tokens.count + following.count)),
                                                           cache: cache, outputs: .all)
                            var nll = 0.0
                            for t in 1..<following.count {
                                nll -= LogProbabilities.logProbability(logits.row(t - 1), of: following[t])
                            }
                            perplexity = exp(nll / Double(following.count - 1))
                        }
                        measured[policy] = (seconds * 1000, perplexity)
                    }
                    guard let baseline = measured[.reprefill] else { continue }
                    for policy in [OverflowPolicy.reanchor, .reprefill, .naive] {
                        guard let m = measured[policy] else { continue }
                        rows.append(TruncationRow(
                            policy: policy.rawValue, model: label, context: context, fraction: fraction, keep: keep,
                            restore_ms: m.ms, perplexity: m.perplexity,
                            perplexity_ratio_to_reprefill: ratio(m.perplexity, baseline.perplexity),
                            restore_speedup_vs_reprefill: baseline.ms / max(m.ms, 1e-6)))
                    }
                }
            }
        }
        return rows
    }
}

/// a / b when both are known.
func ratio(_ a: Double?, _ b: Double?) -> Double? {
    guard let a, let b, b != 0 else { return nil }
    return a / b
}
