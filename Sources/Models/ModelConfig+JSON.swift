import Foundation
import Kernels

extension ModelConfig {
    /// Reads and validates `config.json`.
    public init(contentsOf url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ModelError.fileNotFound(url.path)
        }
        try self.init(json: data, file: url.lastPathComponent)
    }

    /// Parses a `config.json` document. `file` names it in errors.
    public init(json data: Data, file: String = "config.json") throws {
        guard let document = try? JSONDecoder().decode(JSONValue.self, from: data), case .object(let json) = document else {
            throw ModelError.invalidConfig(file: file, field: "(root)", reason: "is not a JSON object")
        }
        let fields = Fields(json: json, file: file)
        guard let names = try fields.strings("architectures"), let name = names.first else {
            throw ModelError.invalidConfig(file: file, field: "architectures", reason: "is missing or not a list of names")
        }
        guard let architecture = Architecture(rawValue: name) else { throw ModelError.unsupportedArchitecture(name) }
        let activation = (try fields.string("hidden_act")) ?? "silu"
        guard activation == "silu" else {
            throw ModelError.invalidConfig(file: file, field: "hidden_act", reason: "'\(activation)' is not supported (silu only)")
        }
        if try fields.bool("mlp_bias") == true {
            throw ModelError.invalidConfig(file: file, field: "mlp_bias", reason: "true is not supported")
        }
        let heads = try fields.require("num_attention_heads")
        let hidden = try fields.require("hidden_size")
        var window: Int? = nil
        let usesWindow = try fields.bool("use_sliding_window") == true
        if architecture == .mistral || usesWindow {
            window = try fields.int("sliding_window")
        }
        let bias: Bool
        switch architecture {
        case .qwen2: bias = true
        case .llama, .mistral: bias = try fields.bool("attention_bias") ?? false
        }
        let (theta, scaling) = try Self.rope(fields: fields, file: file)
        if let extra = json["rope_aligned_pruning"], fields.object("rope_aligned_pruning") == nil, extra.description != "null" {
            throw ModelError.invalidConfig(file: file, field: "rope_aligned_pruning", reason: "must be an object, found \(extra.description)")
        }
        try self.init(
            architecture: architecture, hiddenSize: hidden, intermediateSize: try fields.require("intermediate_size"),
            layers: try fields.require("num_hidden_layers"), heads: heads,
            kvHeads: try fields.int("num_key_value_heads") ?? heads, headDimension: try fields.int("head_dim"),
            rmsNormEpsilon: Float(try fields.double("rms_norm_eps") ?? 1e-6),
            vocabularySize: try fields.require("vocab_size"),
            tieWordEmbeddings: try fields.bool("tie_word_embeddings") ?? false, attentionBias: bias,
            maxPositionEmbeddings: try fields.int("max_position_embeddings") ?? 2048,
            ropeTheta: theta, ropeScaling: scaling, slidingWindow: window,
            bosTokenID: try fields.intOrFirst("bos_token_id"), eosTokenIDs: try fields.intList("eos_token_id"),
            pruning: try fields.object("rope_aligned_pruning").map(RopePruning.init(fields:)), file: file)
    }

    /// RoPE from `rope_parameters` (new form) or `rope_theta` + `rope_scaling` (old form).
    private static func rope(fields: Fields, file: String) throws -> (Double, RopeScaling) {
        let nested = fields.object("rope_parameters") ?? fields.object("rope_scaling")
        let theta = try (nested?.double("rope_theta")) ?? (fields.double("rope_theta")) ?? 10_000
        guard let nested else { return (theta, .none) }
        let type = try (nested.string("rope_type")) ?? (nested.string("type")) ?? "default"
        if let partial = try nested.double("partial_rotary_factor"), partial != 1 {
            throw ModelError.invalidConfig(file: file, field: nested.prefix + "partial_rotary_factor", reason: "must be 1.0")
        }
        switch type {
        case "default":
            return (theta, .none)
        case "linear":
            return (theta, .linear(factor: try nested.requireDouble("factor")))
        case "llama3":
            let original = try (nested.int("original_max_position_embeddings")) ?? (fields.require("max_position_embeddings"))
            return (theta, .llama3(factor: try nested.requireDouble("factor"),
                                   lowFrequencyFactor: try nested.requireDouble("low_freq_factor"),
                                   highFrequencyFactor: try nested.requireDouble("high_freq_factor"),
                                   originalContext: original))
        case "dynamic":
            let original = try (nested.int("original_max_position_embeddings")) ?? (fields.require("max_position_embeddings"))
            return (theta, .dynamic(factor: try nested.requireDouble("factor"), originalContext: original))
        default:
            throw ModelError.unsupportedRopeType(type)
        }
    }
}
