import Cache
import Engine
import Foundation
import Kernels
import Models
import Pruning

/// Speed of RoPE-aligned pruned models of real shapes (random weights) at a long context: the attention
/// kernel alone (one prefill block of queries and one decode step over `context` cached tokens, every layer;
/// best of rounds that alternate the keep ratios) and end to end (a prefill block and decode steps through the
/// whole model).
public struct RAPTiming {
    public struct Row: Codable, Sendable {
        public var shape: String
        public var keep: Double
        public var key_dimension: Int
        public var value_dimension: Int
        public var kv_bytes_per_token: Int
        public var attention_params: Int
        public var attention_flops_per_token: Double
        public var context: Int
        /// Attention of `prefill_rows` queries at the end of the context, all layers (best of `repeats` rounds).
        public var prefill_rows: Int
        public var prefill_attention_ms: Double
        /// One decode query over the context, all layers (best of `decodeRepeats` rounds).
        public var decode_attention_ms: Double
        public var prefill_attention_ratio: Double
        public var decode_attention_ratio: Double
        /// Whole-model speed: the prefill block after `context - prefill_rows` cached tokens, then decode steps.
        public var prefill_tok_s: Double
        public var decode_tok_s: Double
    }

    public var context = 4096
    public var prefillRows = 256
    public var decodeSteps = 8
    public var repeats = 3
    /// A decode step takes tens of milliseconds: more repeats cost little and steady the best.
    public var decodeRepeats = 15

    public init() {}

    /// The pruning that keeps the first `round(keep d/2)` pairs and `round(keep d)` value channels of every
    /// head (for timing only the counts matter).
    static func pruning(_ config: ModelConfig, keep: Double) -> RopePruning? {
        guard keep < 1 else { return nil }
        let d = config.headDimension
        let pairs = PruningPlan.count(keep: keep, of: d / 2), channels = PruningPlan.count(keep: keep, of: d)
        let heads = (0..<config.kvHeads)
        return RopePruning(method: "rap", score: "timing",
                           keptPairs: (0..<config.layers).map { _ in heads.map { _ in Array(0..<pairs) } },
                           keptValueChannels: (0..<config.layers).map { _ in heads.map { _ in Array(0..<channels) } })
    }

    /// One keep ratio, ready for the attention rounds: its filled cache and everything else measured.
    private struct Prepared {
        var row: Row
        var config: ModelConfig
        var cache: KVCache
    }

    /// Builds every keep ratio's model (whole-model speed is measured then), then times the attention kernels in
    /// rounds that take the ratios in turn, keeping each one's best: a change of load on the machine hits every
    /// ratio alike instead of skewing the one measured at that moment.
    public func measure(shape: ModelShape, keeps: [Double], format: StorageFormat, progress: (String) -> Void) throws -> [Row] {
        let base = try shape.config()
        guard base.maxPositionEmbeddings > context + decodeSteps, prefillRows < context else {
            throw EngineError.invalidParameter(name: "context", reason: "\(context) does not fit the \(shape.rawValue) window")
        }
        var prepared: [Prepared] = []
        for keep in keeps.sorted(by: >) {
            progress("\(shape.rawValue) keep \(keep): building, end to end")
            let config = try base.with(pruning: Self.pruning(base, keep: keep))
            let model = try LlamaModel(config: config, weights: .random(config: config, format: format))
            let cache = model.makeCache(capacity: context + decodeSteps)
            try fill(cache, model: model, count: context - prefillRows)
            let tokens = (0..<prefillRows).map { ($0 * 7919 + 13) % config.vocabularySize }
            let start = Clock.now()
            let logits = try model.forward(tokens: tokens, positions: Array((context - prefillRows)..<context), cache: cache)
            let prefillSeconds = Clock.now() - start
            let decodeStart = Clock.now()
            _ = try DecodeLoop(model: model, cache: cache).greedy(from: logits, at: context, count: decodeSteps)
            let decodeSeconds = Clock.now() - decodeStart
            // The attention kernels run over exactly `context` cells of random K/V.
            cache.remove(sequence: 0)
            try fill(cache, model: model, count: context)
            let (params, flops) = RAPExperiment.attentionCost(model, context: context)
            let row = Row(shape: shape.rawValue, keep: keep, key_dimension: config.keyDimension, value_dimension: config.valueDimension,
                          kv_bytes_per_token: model.cacheGeometry(capacity: 1).bytesPerToken, attention_params: params,
                          attention_flops_per_token: flops, context: context, prefill_rows: prefillRows,
                          prefill_attention_ms: .infinity, decode_attention_ms: .infinity,
                          prefill_attention_ratio: 1, decode_attention_ratio: 1,
                          prefill_tok_s: Double(prefillRows) / prefillSeconds, decode_tok_s: Double(decodeSteps) / decodeSeconds)
            prepared.append(Prepared(row: row, config: config, cache: cache))
        }
        for round in 0..<max(repeats, decodeRepeats) {
            progress("\(shape.rawValue) attention round \(round + 1) of \(max(repeats, decodeRepeats))")
            for i in prepared.indices {
                let item = prepared[i]
                if round < repeats {
                    let prefill = attentionTime(item.cache, config: item.config, rows: prefillRows) * 1000
                    prepared[i].row.prefill_attention_ms = min(item.row.prefill_attention_ms, prefill)
                }
                if round < decodeRepeats {
                    let decode = attentionTime(item.cache, config: item.config, rows: 1) * 1000
                    prepared[i].row.decode_attention_ms = min(prepared[i].row.decode_attention_ms, decode)
                }
            }
        }
        guard let reference = prepared.first?.row else { return [] }
        return prepared.map { item in
            var row = item.row
            row.prefill_attention_ratio = row.prefill_attention_ms / reference.prefill_attention_ms
            row.decode_attention_ratio = row.decode_attention_ms / reference.decode_attention_ms
            return row
        }
    }

    /// Places `count` cells of random canonical K/V at positions `0..<count` (no prefill needed for timing).
    private func fill(_ cache: KVCache, model: LlamaModel, count: Int) throws {
        let geometry = cache.geometry.with(capacity: count)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Float {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000
        }
        let keys = (0..<geometry.layers).map { _ in (0..<(count * geometry.keyWidth)).map { _ in next() } }
        let values = (0..<geometry.layers).map { _ in (0..<(count * geometry.valueWidth)).map { _ in next() } }
        try cache.importSlice(CacheSlice(geometry: geometry, relativePositions: Array(0..<count), keys: keys, values: values),
                              sequence: 0, at: 0)
    }

    /// Seconds of the attention kernel over every layer for the last `rows` queries of the context (a prefill
    /// block ending at the last cached position, or one decode query after it).
    private func attentionTime(_ cache: KVCache, config: ModelConfig, rows: Int) -> Double {
        let queries = [Float](repeating: 0.01, count: rows * config.heads * config.keyDimension)
        var out = [Float](repeating: 0, count: rows * config.heads * config.valueDimension)
        let positions = rows == 1 ? [Int32(context)] : ((context - rows)..<context).map { Int32($0) }
        let start = Clock.now()
        queries.withUnsafeBufferPointer { q in
            out.withUnsafeMutableBufferPointer { o in
                guard let q = q.baseAddress, let o = o.baseAddress else { return }
                for layer in 0..<config.layers {
                    _ = cache.attend(layer: layer, queries: q, rows: rows, queryPositions: positions, sequence: 0,
                                     heads: config.heads, window: nil, out: o)
                }
            }
        }
        return Clock.now() - start
    }
}
