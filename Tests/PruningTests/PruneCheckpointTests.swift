import Foundation
import Testing
import TestSupport
import Kernels
import Models
@testable import Pruning

/// `reanchor prune` on the embedded books-5m model: keep 1.0 is the original model, and a pruned checkpoint
/// computes exactly what the original computes with the dropped q/k rows and v channels zeroed.
@Suite(.serialized) struct PruneCheckpointTests {
    static let directory = Locations.repositoryRoot.appendingPathComponent("models/books-5m")
    /// Calibration and probe tokens (ids within the 4096-token vocabulary).
    static let calibration = (0..<48).map { ($0 * 733 + 11) % 4096 }
    static let prompt = [0, 812, 77, 1033, 5, 2900, 41, 17, 3999, 260]

    func pruned(keep: Double, score: PairScore, method: PruningMethod = .rap) throws -> (original: LlamaModel, plan: PruningPlan, pruned: LlamaModel) {
        let original = try LlamaModel(directory: Self.directory, format: .f32)
        let plan = try PruningPlan(model: original, calibration: try CalibrationProjections(model: original, tokens: Self.calibration),
                                   keep: keep, score: score, method: method)
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("reanchor-prune-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        try PrunedCheckpoint.write(source: Self.directory, config: original.config, pruning: plan.pruning, to: output)
        return (original, plan, try LlamaModel(directory: output, format: .f32))
    }

    func logits(_ model: LlamaModel) throws -> [Float] {
        try model.forward(tokens: Self.prompt, positions: Array(0..<Self.prompt.count), cache: model.makeCache(capacity: 16), outputs: .all).values
    }

    @Test func keepingEverythingIsTheOriginalModel() throws {
        let (original, plan, pruned) = try pruned(keep: 1.0, score: .energy)
        #expect(pruned.config.keyDimension == original.config.headDimension)
        #expect(plan.pruning.keptPairs.allSatisfy { $0.allSatisfy { $0 == Array(0..<16) } })
        #expect(try logits(pruned) == (try logits(original)))
    }

    /// `rap` with each pair score, and `channel` (single q/k channels; a lone channel's dropped partner is a
    /// zero row in the checkpoint and zeroed in the original).
    @Test(arguments: [(PruningMethod.rap, PairScore.energy), (.rap, .output), (.channel, .energy)])
    func aPrunedCheckpointEqualsTheMaskedOriginal(method: PruningMethod, score: PairScore) throws {
        let (original, plan, pruned) = try pruned(keep: 0.5, score: score, method: method)
        let config = original.config
        #expect(pruned.config.keyDimension == 16 && pruned.config.valueDimension == 16)
        #expect(pruned.cacheGeometry(capacity: 1).bytesPerToken * 2 == original.cacheGeometry(capacity: 1).bytesPerToken)
        // The original's weights with every dropped row of q, k and v zeroed.
        let d = config.headDimension, group = config.heads / config.kvHeads
        let blocks = try original.weights.blocks.enumerated().map { layer, block in
            var kept = Set<Int>()
            func keyRows(_ g: Int) -> [Int] { plan.pruning.keyRows(layer: layer, head: g, headDimension: d).compactMap { $0 } }
            for h in 0..<config.heads {
                kept.formUnion(keyRows(h / group).map { h * d + $0 })
            }
            for g in 0..<config.kvHeads {
                let kOffset = config.heads * d + g * d
                kept.formUnion(keyRows(g).map { kOffset + $0 })
                kept.formUnion(plan.pruning.keptValueChannels[layer][g].map { (config.heads + config.kvHeads) * d + g * d + $0 })
            }
            let qkv = Matrix(rows: block.qkv.rows, columns: block.qkv.columns, format: .f32)
            guard case .f32(let target) = qkv.storage else { throw PruningError.invalidParameter(name: "test", reason: "not f32") }
            for row in kept { block.qkv.copyRow(row, into: target.pointer + row * block.qkv.columns) }
            return BlockWeights(attentionNorm: block.attentionNorm, qkv: qkv, qkvBias: nil, output: block.output,
                                mlpNorm: block.mlpNorm, gateUp: block.gateUp, down: block.down)
        }
        let masked = try LlamaModel(config: config, weights: LlamaWeights(embeddings: original.weights.embeddings, blocks: blocks,
                                                                           finalNorm: original.weights.finalNorm, lmHead: original.weights.lmHead))
        let difference = maxAbsoluteDifference(try logits(pruned), try logits(masked))
        #expect(difference <= 1e-4, "max |Δlogit| = \(difference)")
        // And pruning changed the model (the test above could not pass by accident).
        #expect(maxAbsoluteDifference(try logits(pruned), try logits(original)) > 1e-3)
    }

    /// `channel` fills as many rotation slots per head as `rap` has pairs (the same KV bytes), channel by
    /// channel: on books-5m some partners are dropped (lone channels exist), so fewer q/k dims are kept.
    @Test func channelKeepsTheSameBudgetAsRAP() throws {
        let original = try LlamaModel(directory: Self.directory, format: .f32)
        let calibration = try CalibrationProjections(model: original, tokens: Self.calibration)
        for keep in [0.9, 0.7, 0.5] {
            let rap = try PruningPlan(model: original, calibration: calibration, keep: keep, score: .energy).pruning
            let channel = try PruningPlan(model: original, calibration: calibration, keep: keep, score: .energy, method: .channel).pruning
            #expect(channel.method == "channel" && channel.keyDimension == rap.keyDimension && channel.valueDimension == rap.valueDimension)
            for (layer, heads) in channel.keptPairs.enumerated() {
                for head in heads.indices {
                    #expect(heads[head].count + channel.lone(layer: layer, head: head).count == rap.slotsPerHead)
                }
            }
            #expect(!channel.loneChannels.isEmpty, "keep \(keep): the RoPE-blind choice kept every partner")
        }
        #expect(PruningPlan.split(channels: [0, 2, 5, 16, 18, 31], headDimension: 32) == (pairs: [0, 2], lone: [5, 31]))
        // Ranking 5, 1, 4, 0, 7, ... over d = 8: 5 and 1 share pair 1, 4 and 0 pair 0; 7 would need a third slot.
        #expect(PruningPlan.prefix([3, 8, 1, 0, 5, 9, 0.5, 2], slots: 2) == [0, 1, 4, 5])
    }

    @Test func countsAndSelection() throws {
        #expect(PruningPlan.count(keep: 0.7, of: 16) == 11 && PruningPlan.count(keep: 0.01, of: 16) == 1 && PruningPlan.count(keep: 1, of: 8) == 8)
        #expect(PruningPlan.top([0.5, 3, 1, 3, 0], count: 3) == [1, 2, 3])
        let original = try LlamaModel(directory: Self.directory, format: .f32)
        #expect(throws: PruningError.self) {
            try PruningPlan(model: original, calibration: try CalibrationProjections(model: original, tokens: Self.calibration), keep: 0, score: .energy)
        }
        #expect(throws: PruningError.self) { try CalibrationProjections(model: original, tokens: [1]) }
    }
}
