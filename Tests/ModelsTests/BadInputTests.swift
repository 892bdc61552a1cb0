import Foundation
import Testing
import Models
import Cache
import Kernels

/// Each malformed input is a specific, named error: never a crash.
@Suite struct BadInputTests: ScratchModels {
    @Test func unknownArchitectureIsNamed() throws {
        let directory = try copyOfFixture()
        try editConfig(directory) { $0["architectures"] = ["GPTNeoXForCausalLM"] }
        #expect(throws: ModelError.unsupportedArchitecture("GPTNeoXForCausalLM")) { try LlamaModel(directory: directory) }
    }

    @Test func unknownRopeTypeIsNamed() throws {
        let directory = try copyOfFixture()
        try editConfig(directory) { $0["rope_parameters"] = ["rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0] }
        #expect(throws: ModelError.unsupportedRopeType("yarn")) { try LlamaModel(directory: directory) }
        try editConfig(directory) { $0["rope_parameters"] = nil; $0["rope_scaling"] = ["type": "longrope", "factor": 2.0] }
        #expect(throws: ModelError.unsupportedRopeType("longrope")) { try LlamaModel(directory: directory) }
    }

    @Test func invalidFieldsAreNamed() throws {
        let directory = try copyOfFixture()
        try editConfig(directory) { $0["num_key_value_heads"] = 3 }
        #expect(throws: ModelError.invalidConfig(file: "config.json", field: "num_key_value_heads",
                                                 reason: "must divide num_attention_heads (4), found 3")) { try LlamaModel(directory: directory) }
        try editConfig(directory) { $0["num_key_value_heads"] = 2; $0["hidden_size"] = "sixty-four" }
        #expect(throws: ModelError.invalidConfig(file: "config.json", field: "hidden_size",
                                                 reason: "must be an integer, found \"sixty-four\"")) { try LlamaModel(directory: directory) }
        try editConfig(directory) { $0["hidden_size"] = 64; $0["eos_token_id"] = [2, 5000] }
        #expect(throws: ModelError.invalidConfig(file: "config.json", field: "eos_token_id",
                                                 reason: "id 5000 is outside the vocabulary [0, 96)")) { try LlamaModel(directory: directory) }
    }

    @Test func configShapeDisagreeingWithWeightsIsNamed() throws {
        let directory = try copyOfFixture()
        try editConfig(directory) { $0["intermediate_size"] = 100 }
        #expect(throws: ModelError.shapeMismatch(file: "model.safetensors", tensor: "model.layers.0.mlp.gate_proj.weight", expected: [100, 64], found: [96, 64])) {
            try LlamaModel(directory: directory)
        }
    }

    @Test func truncatedSafetensorsIsAnError() throws {
        let directory = try copyOfFixture()
        let url = directory.appendingPathComponent("model.safetensors")
        let data = try Data(contentsOf: url)
        try data.prefix(data.count - 1000).write(to: url)
        #expect(throws: ModelError.self) { try LlamaModel(directory: directory) }
        do { _ = try LlamaModel(directory: directory) } catch let error as ModelError {
            #expect(error.description.contains("truncated or corrupt"))
        }
        try Data([1, 2, 3]).write(to: url)
        #expect(throws: ModelError.invalidSafetensors(file: "model.safetensors", reason: "file is 3 bytes, shorter than the 8-byte header length")) {
            try LlamaModel(directory: directory)
        }
    }

    @Test func corruptHeaderLengthAndJSONAreErrors() throws {
        let directory = try copyOfFixture()
        let url = directory.appendingPathComponent("model.safetensors")
        var data = try Data(contentsOf: url)
        data.replaceSubrange(0..<8, with: withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { Data($0) })
        try data.write(to: url)
        #expect(throws: ModelError.self) { try LlamaModel(directory: directory) }
        data = try Data(contentsOf: Fixtures.model("llama-tied").appendingPathComponent("model.safetensors"))
        data[9] = UInt8(ascii: "!")  // break the JSON
        try data.write(to: url)
        #expect(throws: ModelError.invalidSafetensors(file: "model.safetensors", reason: "header is not a JSON object")) {
            try LlamaModel(directory: directory)
        }
    }

    @Test func unknownDTypeIsNamed() throws {
        let directory = try copyOfFixture()
        let url = directory.appendingPathComponent("model.safetensors")
        var data = try Data(contentsOf: url)
        let header = String(decoding: data[8..<(8 + Int(data[0]) + Int(data[1]) << 8)], as: UTF8.self)
        let patched = header.replacingOccurrences(of: "\"F32\"", with: "\"I64\"")
        #expect(patched.utf8.count == header.utf8.count)
        data.replaceSubrange(8..<(8 + header.utf8.count), with: Data(patched.utf8))
        try data.write(to: url)
        #expect(throws: ModelError.self) { try LlamaModel(directory: directory) }
        do { _ = try LlamaModel(directory: directory) } catch let error as ModelError {
            #expect(error.description.contains("unsupported dtype I64"))
        }
    }

    @Test func missingTensorAndMissingFilesAreNamed() throws {
        let directory = try copyOfFixture("llama-untied-sharded")
        let index = directory.appendingPathComponent("model.safetensors.index.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: index)) as! [String: Any]
        var map = json["weight_map"] as! [String: String]
        let shard = map["model.norm.weight"]!
        try FileManager.default.removeItem(at: directory.appendingPathComponent(shard))
        #expect(throws: ModelError.fileNotFound(directory.appendingPathComponent(shard).path)) { try LlamaModel(directory: directory) }
        map["model.norm.weight"] = "../escape.safetensors"
        json["weight_map"] = map
        try JSONSerialization.data(withJSONObject: json).write(to: index)
        #expect(throws: ModelError.self) { try LlamaModel(directory: directory) }
        #expect(throws: ModelError.self) { try LlamaModel(directory: try temporaryDirectory()) }
    }

    @Test func badForwardInputsThrowAndLeaveTheCacheUnchanged() throws {
        let model = try LlamaModel(directory: Fixtures.model("llama-tied"))
        let cache = model.makeCache(capacity: 8)
        _ = try model.forward(tokens: [1, 2], positions: [0, 1], cache: cache)
        #expect(throws: ModelError.invalidToken(96, vocabularySize: 96)) { try model.forward(tokens: [96], positions: [2], cache: cache) }
        #expect(throws: CacheError.positionCountMismatch(tokens: 1, positions: 2)) { try model.forward(tokens: [3], positions: [2, 3], cache: cache) }
        #expect(throws: CacheError.positionOutOfRange(-1, limit: RotaryEmbedding.maximumPosition)) { try model.forward(tokens: [3], positions: [-1], cache: cache) }
        #expect(throws: CacheError.full(requested: 7, capacity: 8, used: 2)) {
            try model.forward(tokens: Array(repeating: 3, count: 7), positions: Array(2..<9), cache: cache)
        }
        #expect(cache.count(sequence: 0) == 2)
        #expect(cache.occupied == 2)
    }
}
