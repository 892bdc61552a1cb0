import Engine
import Foundation
import Kernels
import Models
import Pruning

/// The RoPE-aligned pruning experiment (`reanchor bench rap`): per keep ratio and method (`rap` with each pair
/// score, and the RoPE-blind `channel` baseline at the same budget), what a pruned model saves (KV bytes per
/// token, attention parameters and FLOPs) and what it costs in perplexity, on a trained model calibrated on
/// one text and evaluated on another.
public struct RAPExperiment {
    public struct QualityRow: Codable, Sendable {
        public var model: String
        /// `rap-energy`, `rap-output` (the pair score) or `channel-energy`.
        public var method: String
        public var keep: Double
        /// Rotation slots per head (kept pairs; for `channel` kept pairs plus pseudo-pairs of lone
        /// channels), of `head_dim / 2`, and value channels per head, of `head_dim`.
        public var kept_pairs: Int
        public var value_channels: Int
        /// Kept q/k dims per head (`2 kept_pairs` unless an odd lone count was padded).
        public var key_channels: Int?
        /// Of all kept q/k dims (every layer and head), the fraction kept without their RoPE partner
        /// (0 for `rap`).
        public var lone_fraction: Double?
        public var kv_bytes_per_token: Int
        public var kv_bytes_ratio: Double
        /// Parameters of q/k/v/o projections, all layers.
        public var attention_params: Int
        public var attention_params_ratio: Double
        /// Attention FLOPs per token at `context` cached tokens: projections plus scores and weighted values.
        public var attention_flops_per_token: Double
        public var attention_flops_ratio: Double
        public var context: Int
        public var perplexity: Double
        public var perplexity_ratio: Double
    }

    /// The unpruned model is row `keep == 1`; ratios are to it.
    public let keeps: [Double]
    public let scores: [PairScore]
    public let methods: [PruningMethod]

    public init(keeps: [Double], scores: [PairScore] = PairScore.allCases, methods: [PruningMethod] = PruningMethod.allCases) throws {
        guard !keeps.isEmpty, keeps.allSatisfy({ $0 > 0 && $0 <= 1 }) else {
            throw EngineError.invalidParameter(name: "keep", reason: "needs one or more ratios in (0, 1]")
        }
        self.keeps = Array(Set(keeps + [1])).sorted(by: >)
        self.scores = scores
        self.methods = methods
    }

    /// Attention cost of `model` per token with `context` cached tokens: `(parameters, FLOPs)`.
    public static func attentionCost(_ model: LlamaModel, context: Int) -> (params: Int, flops: Double) {
        let config = model.config
        let params = model.weights.blocks.reduce(0) { $0 + $1.qkv.elementCount + $1.output.elementCount }
        let perLayer = 2.0 * Double(config.heads * (config.keyDimension + config.valueDimension)) * Double(context)
        return (params, 2 * Double(params) + Double(config.layers) * perLayer)
    }

    /// Prunes `directory`'s model at every ratio with every score (checkpoints written under `scratch`) and
    /// scores `evaluation` (token ids, no BOS) at the model's window.
    public func measureQuality(directory: URL, label: String, calibration: [Int], evaluation: [Int], scratch: URL,
                               progress: (String) -> Void) throws -> [QualityRow] {
        let original = try LlamaModel(directory: directory, format: .f32)
        let context = original.config.maxPositionEmbeddings
        func perplexity(_ model: LlamaModel) throws -> Double {
            try PerplexityEvaluator(model: model, context: context).evaluate(evaluation) { _, _ in }.perplexity
        }
        progress("\(label): unpruned perplexity")
        let baseline = try perplexity(original)
        let (baseParams, baseFlops) = Self.attentionCost(original, context: context)
        let baseBytes = original.cacheGeometry(capacity: 1).bytesPerToken
        progress("\(label): calibration")
        let projections = try CalibrationProjections(model: original, tokens: calibration)
        var rows: [QualityRow] = []
        let runs = methods.flatMap { method in method == .rap ? scores.map { (method, $0) } : [(method, PairScore.energy)] }
        for (method, score) in runs {
            let name = "\(method.rawValue)-\(score.rawValue)"
            progress("\(label): \(name) scores")
            let scored = PruningScores(model: original, calibration: projections, score: score, method: method)
            for keep in keeps {
                progress("\(label): \(name) keep \(keep)")
                let plan = try PruningPlan(scores: scored, config: original.config, keep: keep)
                let output = scratch.appendingPathComponent("\(label)-\(name)-\(keep)")
                try PrunedCheckpoint.write(source: directory, config: original.config, pruning: plan.pruning, to: output)
                let pruned = try LlamaModel(directory: output, format: .f32)
                try? FileManager.default.removeItem(at: output)
                let (params, flops) = Self.attentionCost(pruned, context: context)
                let bytes = pruned.cacheGeometry(capacity: 1).bytesPerToken
                let ppl = keep == 1 ? baseline : try perplexity(pruned)
                let lone = plan.pruning.loneChannels.joined().joined().count
                let kept = plan.pruning.keptPairs.joined().joined().count * 2 + lone
                rows.append(QualityRow(model: label, method: name, keep: keep, kept_pairs: plan.pruning.slotsPerHead,
                                       value_channels: plan.pruning.valueDimension, key_channels: plan.pruning.keptKeyChannels,
                                       lone_fraction: Double(lone) / Double(max(kept, 1)), kv_bytes_per_token: bytes,
                                       kv_bytes_ratio: Double(bytes) / Double(baseBytes), attention_params: params,
                                       attention_params_ratio: Double(params) / Double(baseParams), attention_flops_per_token: flops,
                                       attention_flops_ratio: flops / baseFlops, context: context, perplexity: ppl,
                                       perplexity_ratio: ppl / baseline))
            }
        }
        return rows
    }
}
