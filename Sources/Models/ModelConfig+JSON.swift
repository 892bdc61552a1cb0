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
            file: file)
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

/// A JSON document that keeps booleans, integers and other numbers apart (Foundation's `NSNumber`
/// does not on Linux).
enum JSONValue: Decodable {
    case null, bool(Bool), int(Int), double(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int.self) { self = .int(value) }
        else if let value = try? container.decode(Double.self) { self = .double(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    var description: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return String(value)
        case .int(let value): return String(value)
        case .double(let value): return String(value)
        case .string(let value): return "\"\(value)\""
        case .array: return "a list"
        case .object: return "an object"
        }
    }
}

/// Typed access to a JSON object's fields with errors that name the field.
struct Fields {
    let json: [String: JSONValue]
    let file: String
    var prefix = ""

    private func wrong(_ key: String, _ expected: String) -> ModelError {
        ModelError.invalidConfig(file: file, field: prefix + key, reason: "must be \(expected), found \(json[key]?.description ?? "nothing")")
    }

    func object(_ key: String) -> Fields? {
        guard case .object(let nested)? = json[key] else { return nil }
        return Fields(json: nested, file: file, prefix: prefix + key + ".")
    }

    func int(_ key: String) throws -> Int? {
        switch json[key] {
        case nil, .null?: return nil
        case .int(let value)?: return value
        case .double(let value)? where value == value.rounded() && abs(value) < 1e15: return Int(value)
        default: throw wrong(key, "an integer")
        }
    }

    func require(_ key: String) throws -> Int {
        guard let value = try int(key) else { throw wrong(key, "present") }
        return value
    }

    func double(_ key: String) throws -> Double? {
        switch json[key] {
        case nil, .null?: return nil
        case .int(let value)?: return Double(value)
        case .double(let value)?: return value
        default: throw wrong(key, "a number")
        }
    }

    func requireDouble(_ key: String) throws -> Double {
        guard let value = try double(key) else { throw wrong(key, "present") }
        return value
    }

    func bool(_ key: String) throws -> Bool? {
        switch json[key] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        default: throw wrong(key, "true or false")
        }
    }

    func string(_ key: String) throws -> String? {
        switch json[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        default: throw wrong(key, "a string")
        }
    }

    func strings(_ key: String) throws -> [String]? {
        switch json[key] {
        case nil, .null?: return nil
        case .array(let items)?:
            return try items.map { item in
                guard case .string(let text) = item else { throw wrong(key, "a list of strings") }
                return text
            }
        default: throw wrong(key, "a list of strings")
        }
    }

    /// An integer, or the first of a list of integers.
    func intOrFirst(_ key: String) throws -> Int? { try intList(key).first }

    /// An integer or a list of integers, as `eos_token_id` may be.
    func intList(_ key: String) throws -> [Int] {
        switch json[key] {
        case nil, .null?: return []
        case .int(let value)?: return [value]
        case .array(let items)?:
            return try items.map { item in
                guard case .int(let value) = item else { throw wrong(key, "an integer or a list of integers") }
                return value
            }
        default: throw wrong(key, "an integer or a list of integers")
        }
    }
}
