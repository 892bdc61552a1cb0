import Foundation
import Testing
import Models

/// Sizes in config.json are bounded and checked before anything is allocated; each failure names the field.
@Suite struct ConfigLimitsTests: ScratchModels {
    struct Case: CustomTestStringConvertible, Sendable {
        let field: String
        let value: Int
        let reason: String
        var testDescription: String { "\(field) = \(value)" }
    }

    static let hugeSizes = [
        Case(field: "vocab_size", value: 1_000_000_000_000, reason: "must be at most 4194304, found 1000000000000"),
        Case(field: "intermediate_size", value: 1_000_000_000_000, reason: "must be at most 262144, found 1000000000000"),
        Case(field: "hidden_size", value: 1_000_000_000_000, reason: "must be at most 65536, found 1000000000000"),
        Case(field: "num_hidden_layers", value: 1_000_000_000, reason: "must be at most 1024, found 1000000000"),
        Case(field: "max_position_embeddings", value: 1_000_000_000, reason: "must be at most 16777216, found 1000000000"),
        Case(field: "num_attention_heads", value: -4, reason: "must be > 0, found -4"),
        Case(field: "head_dim", value: 1 << 40, reason: "must be at most 4096, found 1099511627776"),
        Case(field: "sliding_window", value: 0, reason: "must be > 0, found 0"),
    ]

    /// The model directory fails with the field named, before any weight is allocated.
    @Test(arguments: hugeSizes)
    func hugeOrInvalidSizeIsNamed(_ test: Case) throws {
        let directory = try copyOfFixture()
        try editConfig(directory) {
            $0[test.field] = test.value
            if test.field == "sliding_window" { $0["architectures"] = ["MistralForCausalLM"] }
        }
        #expect(throws: ModelError.invalidConfig(file: "config.json", field: test.field, reason: test.reason)) {
            try LlamaModel(directory: directory)
        }
    }

    /// Sizes each within bounds whose product is not: the parameter bytes are checked with overflow checks.
    @Test func parameterBytesAreBounded() throws {
        #expect(throws: ModelError.invalidConfig(file: "config.json", field: "(parameters)",
                                                 reason: "the sizes imply more than 1099511627776 bytes of f32 weights")) {
            try ModelConfig(hiddenSize: 65536, intermediateSize: 262_144, layers: 1024, heads: 1024, kvHeads: 1024,
                            headDimension: 4096, vocabularySize: 4_194_304, maxPositionEmbeddings: 2048)
        }
    }

    /// A million-token window is accepted: the config holds a number, nothing is sized by it here.
    @Test func largeWindowParsesWithoutAllocating() throws {
        let directory = try copyOfFixture()
        try editConfig(directory) { $0["max_position_embeddings"] = 1_000_000 }
        let model = try LlamaModel(directory: directory)
        #expect(model.config.maxPositionEmbeddings == 1_000_000)
        #expect(model.weights.embeddings.rows == 96)
    }

    /// Heads that do not divide hidden_size (and no head_dim) say so, naming both fields.
    @Test func headsNotDividingHiddenAreNamed() throws {
        let directory = try copyOfFixture()
        try editConfig(directory) { $0["head_dim"] = nil; $0["num_attention_heads"] = 6 }
        #expect(throws: ModelError.invalidConfig(file: "config.json", field: "num_attention_heads",
                                                 reason: "(6) must divide hidden_size (64) when the config has no head_dim")) {
            try LlamaModel(directory: directory)
        }
        try editConfig(directory) { $0["num_attention_heads"] = 64; $0["num_key_value_heads"] = 64 }
        #expect(throws: ModelError.invalidConfig(file: "config.json", field: "hidden_size",
                                                 reason: "(64) / num_attention_heads (64) = 1 is the head dimension (the config has no head_dim) and must be even for RoPE")) {
            try LlamaModel(directory: directory)
        }
    }

    /// Token ids outside the vocabulary, negative or huge, are named with their field.
    @Test(arguments: [("bos_token_id", -5), ("bos_token_id", 1_000_000_000_000), ("eos_token_id", -1), ("eos_token_id", 96)])
    func outOfRangeTokenIDsAreNamed(field: String, id: Int) throws {
        let directory = try copyOfFixture()
        try editConfig(directory) { $0[field] = id }
        #expect(throws: ModelError.invalidConfig(file: "config.json", field: field, reason: "id \(id) is outside the vocabulary [0, 96)")) {
            try LlamaModel(directory: directory)
        }
    }

    /// Sizes within bounds but larger than the checkpoint fail on the shape check, before the weights are
    /// allocated (a 4M-row vocabulary would be 1 GiB of f32).
    @Test func shapesAreCheckedBeforeAllocating() throws {
        let directory = try copyOfFixture()
        try editConfig(directory) { $0["vocab_size"] = 4_000_000 }
        #expect(throws: ModelError.shapeMismatch(file: "model.safetensors", tensor: "model.embed_tokens.weight", expected: [4_000_000, 64], found: [96, 64])) {
            try LlamaModel(directory: directory)
        }
        try editConfig(directory) { $0["vocab_size"] = 96; $0["num_hidden_layers"] = 1000 }
        #expect(throws: ModelError.missingTensor("model.layers.2.self_attn.q_proj.weight")) { try LlamaModel(directory: directory) }
    }

    /// Config fields are immutable; a changed window is a new, validated config.
    @Test func withMaxPositionEmbeddingsValidates() throws {
        let config = try ModelShape.tiny.config()
        #expect(try config.with(maxPositionEmbeddings: 4096).maxPositionEmbeddings == 4096)
        #expect(throws: ModelError.self) { try config.with(maxPositionEmbeddings: 1 << 30) }
    }

    /// The canonical text names every field; configs that differ in any field differ in it.
    @Test func canonicalDescriptionSeesEveryField() throws {
        let base = try ModelConfig(hiddenSize: 64, intermediateSize: 96, layers: 2, heads: 4, kvHeads: 2, vocabularySize: 96)
        let variants = [
            try ModelConfig(hiddenSize: 64, intermediateSize: 96, layers: 2, heads: 4, kvHeads: 2, vocabularySize: 96, slidingWindow: 4),
            try ModelConfig(hiddenSize: 64, intermediateSize: 96, layers: 2, heads: 4, kvHeads: 2, vocabularySize: 96, ropeTheta: 10_001),
            try ModelConfig(hiddenSize: 64, intermediateSize: 96, layers: 2, heads: 4, kvHeads: 2, vocabularySize: 96,
                            ropeScaling: .linear(factor: 2)),
            try ModelConfig(hiddenSize: 64, intermediateSize: 96, layers: 2, heads: 4, kvHeads: 2, vocabularySize: 96, eosTokenIDs: [3]),
            try ModelConfig(hiddenSize: 64, intermediateSize: 96, layers: 2, heads: 4, kvHeads: 2, vocabularySize: 96, bosTokenID: nil),
        ]
        for variant in variants { #expect(variant.canonicalDescription != base.canonicalDescription) }
        #expect(base.canonicalDescription.contains("rope_theta=10000.0"))
    }
}
