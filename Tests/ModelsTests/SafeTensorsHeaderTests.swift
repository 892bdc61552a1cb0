import Foundation
import Testing
import Models

/// Safetensors headers are checked in full: overflow, overlaps, sizes; weights are checked for NaN/Inf.
@Suite struct SafeTensorsHeaderTests: ScratchModels {
    func parse(_ json: String, dataLength: Int = 64) throws -> SafeTensorsHeader {
        try SafeTensorsHeader(Data(json.utf8), file: "model.safetensors", dataLength: dataLength)
    }

    @Test func overlappingOffsetsAreRejected() throws {
        let json = #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}"#
        #expect(throws: ModelError.invalidSafetensors(file: "model.safetensors",
                                                      reason: "tensors 'a' 0..<16 and 'b' 8..<24 have overlapping data_offsets")) {
            try parse(json)
        }
        let adjacent = #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[16,32]}}"#
        #expect(try parse(adjacent).tensors.count == 2)
    }

    @Test func shapeWhoseProductOverflowsIsRejected() throws {
        let json = #"{"a":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,16]}}"#
        #expect(throws: ModelError.invalidSafetensors(file: "model.safetensors",
                                                      reason: "tensor 'a' shape [4294967296, 4294967296, 4] has more elements than an Int can count")) {
            try parse(json)
        }
        // Elements fit in an Int, bytes do not.
        let bytes = #"{"a":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,16]}}"#
        #expect(throws: ModelError.invalidSafetensors(file: "model.safetensors",
                                                      reason: "tensor 'a' shape [4611686018427387904] × 4 bytes does not match its 16-byte range")) {
            try parse(bytes)
        }
    }

    @Test func malformedEntriesAreNamed() throws {
        let cases: [(String, String)] = [
            (#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}"#,
             "tensor 'a' shape must be a list of non-negative integers, found -1 in it"),
            (#"{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#,
             "tensor 'a' shape must be a list of non-negative integers, found 1.5 in it"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,1e300]}}"#, "tensor 'a' data_offsets must be two integers [begin, end]"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}"#,
             "tensor 'a' data_offsets [8, 4] fall outside the 64-byte data section: truncated or corrupt"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, "tensor 'a' shape [2] × 4 bytes does not match its 4-byte range"),
            (#"{"__metadata__":{"format":1}}"#, "__metadata__ 'format' must be a string"),
            (#"[1,2]"#, "header is not a JSON object"),
        ]
        for (json, reason) in cases {
            #expect(throws: ModelError.invalidSafetensors(file: "model.safetensors", reason: reason)) { try parse(json) }
        }
    }

    /// Writes `value` over element `index` of tensor `name` in a copy of the fixture.
    func damage(_ directory: URL, tensor name: String, index: Int, value: Float) throws {
        let url = directory.appendingPathComponent("model.safetensors")
        let file = try SafeTensorsFile(path: url.path)
        let info = try #require(file.tensors[name])
        #expect(info.dtype == .f32)
        let offset = 8 + file.headerBytes.count + info.range.lowerBound + index * 4
        var data = try Data(contentsOf: url)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { data.replaceSubrange(offset..<(offset + 4), with: $0) }
        try data.write(to: url)
    }

    @Test(arguments: [Float.nan, .infinity, -.infinity])
    func nonFiniteWeightsAreNamed(value: Float) throws {
        let directory = try copyOfFixture()
        try damage(directory, tensor: "model.layers.1.mlp.down_proj.weight", index: 37, value: value)
        #expect(throws: ModelError.nonFiniteWeight(file: "model.safetensors", tensor: "model.layers.1.mlp.down_proj.weight", index: 37)) {
            try LlamaModel(directory: directory)
        }
    }

    /// The last element of a tensor is not skipped (the scan's tail after its SIMD lanes).
    @Test func nonFiniteLastElementIsFound() throws {
        let directory = try copyOfFixture()
        try damage(directory, tensor: "model.norm.weight", index: 63, value: .nan)
        #expect(throws: ModelError.nonFiniteWeight(file: "model.safetensors", tensor: "model.norm.weight", index: 63)) {
            try LlamaModel(directory: directory)
        }
    }
}

extension SafeTensorsHeaderTests {
    /// Two shards may not both store one tensor (which one a load used would be arbitrary).
    @Test func tensorStoredInTwoShardsIsRejected() throws {
        let directory = try copyOfFixture("llama-untied-sharded")
        let shards = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".safetensors") && $0.hasPrefix("model-") }.sorted()
        #expect(shards.count > 1)
        let first = try #require(shards.first)
        let last = try #require(shards.last)
        try FileManager.default.removeItem(at: directory.appendingPathComponent(last))
        try FileManager.default.copyItem(at: directory.appendingPathComponent(first), to: directory.appendingPathComponent(last))
        #expect(throws: ModelError.self) { try Checkpoint(directory: directory) }
        do { _ = try Checkpoint(directory: directory) } catch let error as ModelError {
            #expect(error.description.contains("is also stored in \(first)"))
        }
    }
}
