import Engine
import Models
import Kernels

/// Prefill and decode speed on a model, with achieved bandwidth and compute rates.
public struct SpeedBenchmark {
    public let model: LlamaModel
    public let label: String

    public init(model: LlamaModel, label: String) {
        self.model = model
        self.label = label
    }

    public struct Report: Codable, Sendable {
        public var shape: String
        /// The formats the weight matrices are kept in ("bf16", or per role when mixed).
        public var weights: String
        /// The 16-bit kernels' instruction-set path and GEMV cores.
        public var kernel_path: String
        public var gemv_threads: Int
        public var parameters: Int
        public var weight_bytes_per_token: Int
        public var prompt_tokens: Int
        public var decode_tokens: Int
        public var prefill_tok_s: Double
        public var prefill_gflop_s: Double
        public var decode_tok_s: Double
        public var decode_gb_s: Double
        public var blas_core: String
        public var blas_threads: Int
        /// Streaming read bandwidth measured in this run (GB/s; the better of a pass before the prefill and one
        /// after the decode, since other tenants' load changes within a run), and decode's share of it.
        public var measured_read_gb_s: Double
        public var decode_fraction_of_measured_bandwidth: Double
        /// Decode's share of a nominal 45 GB/s roofline (weight bytes per token / 45 GB/s).
        public var decode_fraction_of_45_gb_s: Double
        public var prefill_fraction_of_430_gflop_s: Double
    }

    /// FLOPs of a prefill of `tokens` tokens that produces logits for the last one (causal attention).
    public func prefillFlops(tokens: Int) -> Double {
        let config = model.config
        let perToken = Double(model.weights.blocks.reduce(0) { $0 + $1.qkv.elementCount + $1.output.elementCount
            + $1.gateUp.elementCount + $1.down.elementCount }) * 2
        let attention = 4 * Double(config.layers * config.heads * config.headDimension) * Double(tokens) * Double(tokens + 1) / 2
        return perToken * Double(tokens) + attention + 2 * Double(config.vocabularySize * config.hiddenSize)
    }

    /// Runs a prefill of `promptTokens` and `decodeTokens` decode steps after it; `progress` reports phases.
    public func run(promptTokens: Int, decodeTokens: Int, progress: (String) -> Void = { _ in }) throws -> Report {
        let config = model.config
        let cache = model.makeCache(capacity: promptTokens + decodeTokens + 1)
        let prompt = (0..<promptTokens).map { ($0 * 7919 + 13) % config.vocabularySize }
        progress("memory read bandwidth")
        let bandwidthBefore = MemoryBandwidth.measureRead(threads: BLASThreads.count)
        // Warm-up: page in the weights and size the scratch space.
        progress("warm-up")
        _ = try model.forward(tokens: Array(prompt.prefix(16)), positions: Array(0..<min(16, promptTokens)), cache: cache)
        _ = try model.forward(tokens: [1], positions: [min(16, promptTokens)], cache: cache)
        cache.clear()
        progress("prefill \(promptTokens) tokens")
        let prefillStart = Clock.now()
        let logits = try model.forward(tokens: prompt, positions: Array(0..<promptTokens), cache: cache)
        let prefillSeconds = Clock.now() - prefillStart
        progress("decode \(decodeTokens) tokens")
        let decodeStart = Clock.now()
        _ = try DecodeLoop(model: model, cache: cache).greedy(from: logits, at: promptTokens, count: decodeTokens)
        let decodeSeconds = Clock.now() - decodeStart
        let weightBytes = model.weights.bytesPerToken
        // Average KV bytes read per decode step: K and V of every cached token in every layer.
        let kvBytes = Double(model.cacheGeometry(capacity: 1).bytesPerToken) * (Double(promptTokens) + Double(decodeTokens) / 2)
        let decodeRate = decodeTokens > 0 ? Double(decodeTokens) / decodeSeconds : 0
        progress("memory read bandwidth")
        let bandwidth = max(bandwidthBefore, MemoryBandwidth.measureRead(threads: BLASThreads.count))
        let decodeGBs = (Double(weightBytes) + kvBytes) * decodeRate / 1e9
        let prefillGFlops = prefillFlops(tokens: promptTokens) / prefillSeconds / 1e9
        return Report(shape: label, weights: model.weights.formatDescription, kernel_path: KernelPath.active.rawValue,
                      gemv_threads: HalfKernels.gemvThreads, parameters: config.parameterCount, weight_bytes_per_token: weightBytes,
                      prompt_tokens: promptTokens, decode_tokens: decodeTokens,
                      prefill_tok_s: Double(promptTokens) / prefillSeconds,
                      prefill_gflop_s: prefillGFlops, decode_tok_s: decodeRate, decode_gb_s: decodeGBs,
                      blas_core: BLASThreads.coreName, blas_threads: BLASThreads.count,
                      measured_read_gb_s: bandwidth, decode_fraction_of_measured_bandwidth: decodeGBs / bandwidth,
                      decode_fraction_of_45_gb_s: Double(weightBytes) * decodeRate / 45e9,
                      prefill_fraction_of_430_gflop_s: prefillGFlops / 430)
    }
}
