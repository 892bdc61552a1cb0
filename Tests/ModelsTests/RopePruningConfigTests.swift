import Foundation
import Testing
import Models
import Cache

/// The `rope_aligned_pruning` config extension: read, validated with errors naming the field, and part of
/// the fingerprinted description; a pruned model's cache holds only the kept dimensions.
@Suite struct RopePruningConfigTests: ScratchModels {
    @Test func prunedConfigNarrowsTheCacheAndTheFingerprintText() throws {
        let pruned = try LlamaModel(directory: Fixtures.model("rap-llama"))
        let config = pruned.config
        #expect(config.headDimension == 16 && config.keyDimension == 10 && config.valueDimension == 11)
        let geometry = pruned.cacheGeometry(capacity: 8)
        #expect(geometry.keyWidth == 2 * 10 && geometry.valueWidth == 2 * 11)
        #expect(geometry.bytesPerToken == 2 * (20 + 22) * 4)
        #expect(config.canonicalDescription.contains("rope_aligned_pruning="))
        let unpruned = try ModelConfig(json: try withoutPruning(Fixtures.model("rap-llama")))
        #expect(!unpruned.canonicalDescription.contains("rope_aligned_pruning"))
        #expect(unpruned.canonicalDescription != config.canonicalDescription)
        #expect(pruned.rotary.tableWidth == 2 * 2 * 5 && pruned.rotary.headDimension == 10)
    }

    /// A channel-pruned head: kept pairs, then one slot per lone channel (its pair's frequency, a zero row in
    /// place of the dropped partner), the same number of rotation slots in every head.
    @Test func channelPrunedConfigGivesEachLoneChannelItsPairsSlot() throws {
        let model = try LlamaModel(directory: Fixtures.model("chan-qwen2-bias"))
        let pruning = try #require(model.config.pruning)
        #expect(pruning.method == "channel" && pruning.slotsPerHead == 6 && model.config.keyDimension == 12)
        #expect(pruning.keyRows(layer: 0, head: 0, headDimension: 16) == [1, 2, 4, 6, 7, 0, 9, 10, 12, 14, 15, nil])
        #expect(pruning.keyRows(layer: 0, head: 1, headDimension: 16) == [0, 1, 3, 5, nil, nil, nil, nil, nil, nil, 12, 15])
        #expect(pruning.rotarySlots(headDimension: 16)[1] == [[1, 3, 6, 0, 2, 5], [4, 6, 0, 3, 7, 1]])
        #expect(model.config.canonicalDescription.contains("lone_channels=0/0,1,3,5,12,15;0,2,13/0,3,7,9"))
        let rotary = model.rotary
        #expect(rotary.headDimension == 12 && rotary.tableWidth == 2 * 2 * 6)
        let positions = [0, 7]
        var cos = [Float](repeating: 9, count: positions.count * rotary.tableWidth), sin = cos
        positions.withUnsafeBufferPointer { p in
            cos.withUnsafeMutableBufferPointer { c in sin.withUnsafeMutableBufferPointer { s in
                guard let c = c.baseAddress, let s = s.baseAddress else { return }
                rotary.table(positions: p, cos: c, sin: s)
            } }
        }
        // Layer 1, KV head 0, slot 5: lone channel 13 rotates at pair 5's frequency.
        let index = rotary.tableWidth + rotary.tableOffset(layer: 1) + 5
        let frequency = rotary.inverseFrequencies[5]
        #expect(cos[index] == Float(Foundation.cos(7 * frequency)) && sin[index] == Float(Foundation.sin(7 * frequency)))
        // Files without lone channels keep their fingerprint text.
        let rap = try LlamaModel(directory: Fixtures.model("rap-llama")).config
        #expect(!rap.canonicalDescription.contains("lone_channels") && rap.pruning?.loneChannels.isEmpty == true)
    }

    private func withoutPruning(_ directory: URL) throws -> Data {
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("config.json"))) as? [String: Any] ?? [:]
        json.removeValue(forKey: "rope_aligned_pruning")
        return try JSONSerialization.data(withJSONObject: json)
    }

    static let badEdits: [(String, @Sendable (inout [String: Any]) -> Void)] = [
        ("rope_aligned_pruning", { $0["rope_aligned_pruning"] = [1, 2] }),
        ("rope_aligned_pruning.kept_pairs", { $0["rope_aligned_pruning"] = ["kept_pairs": [[[0]]], "kept_value_channels": [[[0]], [[0]]]] }),
        ("rope_aligned_pruning.kept_pairs", { Self.setPairs(&$0, [[[0, 9], [0, 1]], [[0, 1], [0, 1]]]) }),
        ("rope_aligned_pruning.kept_pairs", { Self.setPairs(&$0, [[[1, 0], [0, 1]], [[0, 1], [0, 1]]]) }),
        ("rope_aligned_pruning.kept_pairs", { Self.setPairs(&$0, [[[0, 1], [0]], [[0, 1], [0, 1]]]) }),
        ("rope_aligned_pruning.kept_pairs", { Self.setPairs(&$0, [[[0, 1]], [[0, 1], [0, 1]]]) }),
        ("rope_aligned_pruning.kept_pairs", { Self.setPairs(&$0, [[[], []], [[], []]]) }),
        ("rope_aligned_pruning.kept_value_channels", {
            var field = $0["rope_aligned_pruning"] as? [String: Any] ?? [:]
            field["kept_value_channels"] = [[[0, 16], [0, 1]], [[0, 1], [0, 1]]]
            $0["rope_aligned_pruning"] = field
        }),
    ]

    static let badChannelEdits: [@Sendable (inout [String: Any]) -> Void] = [
        // Not a list of lists of integer lists.
        { Self.setLone(&$0, [1]) },
        // Layer 0 head 0 would give 5 + 2 slots where the others give 6.
        { Self.setLone(&$0, [[[0, 3], [0, 1, 3, 5, 12, 15]], [[0, 2, 13], [0, 3, 7, 9]]]) },
        // Pair 1 is kept whole in layer 0, head 0.
        { Self.setLone(&$0, [[[9], [0, 1, 3, 5, 12, 15]], [[0, 2, 13], [0, 3, 7, 9]]]) },
        // Both halves of pair 0 lone: that is a kept pair.
        { Self.setLone(&$0, [[[0], [0, 1, 3, 5, 12, 15]], [[0, 2, 13], [0, 3, 7, 8]]]) },
        // Out of range, and not ascending.
        { Self.setLone(&$0, [[[16], [0, 1, 3, 5, 12, 15]], [[0, 2, 13], [0, 3, 7, 9]]]) },
        { Self.setLone(&$0, [[[0], [0, 1, 3, 5, 15, 12]], [[0, 2, 13], [0, 3, 7, 9]]]) },
    ]

    static func setLone(_ json: inout [String: Any], _ lone: Any) {
        var field = json["rope_aligned_pruning"] as? [String: Any] ?? [:]
        field["lone_channels"] = lone
        json["rope_aligned_pruning"] = field
    }

    @Test(arguments: 0..<badChannelEdits.count)
    func malformedLoneChannelsAreRejectedNamingTheField(index: Int) throws {
        let directory = try copyOfFixture("chan-qwen2-bias")
        defer { try? FileManager.default.removeItem(at: directory) }
        try editConfig(directory, Self.badChannelEdits[index])
        #expect {
            try LlamaModel(directory: directory)
        } throws: { error in
            guard case .invalidConfig(_, let named, _)? = error as? ModelError else { return false }
            return named == "rope_aligned_pruning.lone_channels"
        }
    }

    static func setPairs(_ json: inout [String: Any], _ pairs: [[[Int]]]) {
        var field = json["rope_aligned_pruning"] as? [String: Any] ?? [:]
        field["kept_pairs"] = pairs
        json["rope_aligned_pruning"] = field
    }

    @Test(arguments: 0..<badEdits.count)
    func malformedPruningIsRejectedNamingTheField(index: Int) throws {
        let (field, edit) = Self.badEdits[index]
        let directory = try copyOfFixture("rap-llama")
        defer { try? FileManager.default.removeItem(at: directory) }
        try editConfig(directory, edit)
        #expect {
            try LlamaModel(directory: directory)
        } throws: { error in
            guard case .invalidConfig(_, let named, _)? = error as? ModelError else { return false }
            return named == field
        }
    }

    /// A checkpoint whose pruned shapes disagree with the extension is refused before loading.
    @Test func unprunedWeightsWithAPruningFieldAreRefused() throws {
        let directory = try copyOfFixture("llama-tied")
        defer { try? FileManager.default.removeItem(at: directory) }
        try editConfig(directory) { json in
            json["rope_aligned_pruning"] = ["kept_pairs": [[[0, 1], [2, 3]], [[0, 1], [2, 3]]],
                                            "kept_value_channels": [[[0, 1], [2, 3]], [[0, 1], [2, 3]]]]
        }
        #expect {
            try LlamaModel(directory: directory)
        } throws: { error in
            guard case .shapeMismatch? = error as? ModelError else { return false }
            return true
        }
    }
}
