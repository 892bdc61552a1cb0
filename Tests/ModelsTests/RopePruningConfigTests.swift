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
