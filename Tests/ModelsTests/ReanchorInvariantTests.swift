import Foundation
import Testing
import TestSupport
import Models
import Cache
import Kernels

/// The position-independence invariants, for every key-storage mode, on real transformer layers (and on
/// RoPE-aligned pruned models: `rap-*`, per-head kept-frequency tables and narrower keys and values; and on
/// channel-pruned ones: `chan-*`, whose lone channels rotate beside a zero row at their pair's frequency).
@Suite struct ReanchorInvariantTests {
    static let modes = KeyStorage.allCases
    let tokens = [1, 17, 42, 5, 77, 63, 8, 91, 30, 12, 55]
    let next = 44

    /// Tokens prefilled at [0, n) then shifted by d give the next-token logits of a fresh prefill at [d, d + n).
    @Test(arguments: modes, ["llama-tied", "llama3-scaling", "qwen2-bias", "llama-linear-scaling", "rap-llama", "rap-qwen2-bias",
                                    "chan-llama", "chan-qwen2-bias"])
    func shiftedCacheEqualsFreshPrefillAtNewPositions(storage: KeyStorage, name: String) throws {
        let model = try LlamaModel(directory: Fixtures.model(name))
        let n = tokens.count
        for delta in [37, 150] {
            let fresh = model.makeCache(capacity: 32, storage: storage)
            _ = try model.forward(tokens: tokens, positions: Array(delta..<(delta + n)), cache: fresh, outputs: .none)
            let expected = try model.forward(tokens: [next], positions: [delta + n], cache: fresh)

            let moved = model.makeCache(capacity: 32, storage: storage)
            _ = try model.forward(tokens: tokens, positions: Array(0..<n), cache: moved, outputs: .none)
            #expect(try moved.shift(sequence: 0, range: 0..<n, by: delta) == n)
            let actual = try model.forward(tokens: [next], positions: [delta + n], cache: moved)
            let difference = maxAbsoluteDifference(actual.last, expected.last)
            #expect(difference <= 1e-4, "\(storage) \(name) shift \(delta): max |Δlogit| = \(difference)")
        }
    }

    /// Every mode reproduces transformers' logits (the storage mode changes nothing a model computes).
    @Test(arguments: modes, ["llama-tied", "rap-llama", "chan-qwen2-bias"])
    func everyModeMatchesTheReference(storage: KeyStorage, name: String) throws {
        let directory = Fixtures.model(name)
        let model = try LlamaModel(directory: directory)
        let expected = try SafeTensorsFile(path: directory.appendingPathComponent("expected.safetensors").path)
        let prompts = try JSONDecoder().decode([FixturePrompt].self, from: Data(contentsOf: directory.appendingPathComponent("prompts.json")))
        for (index, prompt) in prompts.enumerated() {
            let cache = model.makeCache(capacity: 16, storage: storage)
            // Prefill all but the last token, then decode the last, so both attention paths run.
            var rows: [Float] = []
            if prompt.tokens.count > 1 {
                rows += try model.forward(tokens: Array(prompt.tokens.dropLast()), positions: Array(prompt.positions.dropLast()),
                                          cache: cache, outputs: .all).values
            }
            rows += try model.forward(tokens: [prompt.tokens.last!], positions: [prompt.positions.last!], cache: cache).values
            let info = try #require(expected.tensors["logits.\(index)"])
            let reference = FloatBuffer(count: info.elementCount)
            expected.read(info, into: reference.pointer)
            #expect(maxAbsoluteDifference(rows, reference.array) <= 1e-4)
        }
    }

    /// 1,000 moves back and forth leave `anchored` live keys bit-identical to a single placement, and the
    /// next token's logits of `anchored` and `pre` caches bit-identical to those of a cache that never
    /// moved (so a stale angle table or a lossy re-derivation would fail); `post` (delta rotation of
    /// rotated keys) drifts.
    @Test(arguments: ["llama-tied", "rap-llama", "chan-llama"])
    func anchoredKeysDoNotDriftUnderRepeatedShifts(name: String) throws {
        let model = try LlamaModel(directory: Fixtures.model(name))
        let n = tokens.count
        let positions = Array(3..<(3 + n))
        func drift(_ storage: KeyStorage) throws -> (keys: Float, logits: Float) {
            let once = model.makeCache(capacity: 16, storage: storage)
            _ = try model.forward(tokens: tokens, positions: positions, cache: once, outputs: .none)
            let moved = model.makeCache(capacity: 16, storage: storage)
            _ = try model.forward(tokens: tokens, positions: positions, cache: moved, outputs: .none)
            for _ in 0..<500 {
                try moved.shift(sequence: 0, range: 0..<10_000, by: 1_000)
                try moved.shift(sequence: 0, range: 0..<10_000, by: -1_000)
            }
            var worst: Float = 0
            for layer in 0..<model.config.layers {
                let difference = try maxAbsoluteDifference(try moved.keys(layer: layer, sequence: 0, positions: positions),
                                                           try once.keys(layer: layer, sequence: 0, positions: positions)).checkedMaximum()
                worst = max(worst, Float(difference))
            }
            let expected = try model.forward(tokens: [next], positions: [3 + n], cache: once)
            let actual = try model.forward(tokens: [next], positions: [3 + n], cache: moved)
            return (worst, Float(try maxAbsoluteDifference(actual.last, expected.last).checkedMaximum()))
        }
        let anchored = try drift(.anchored)
        #expect(anchored.keys == 0 && anchored.logits == 0)
        // `pre` keeps canonical keys untouched by a shift (its key view re-rotates them), so the check that
        // can fail is the attention path: stale per-cell angles would change the logits.
        let pre = try drift(.pre)
        #expect(pre.logits == 0)
        let post = try drift(.post)
        #expect(post.keys > 0, "delta rotations of rotated keys accumulate rounding")
    }

    /// A range exported at one place and imported at another equals a fresh prefill there.
    @Test(arguments: modes, ["llama3-scaling", "rap-qwen2-bias", "chan-qwen2-bias"])
    func exportedSliceReanchorsAnywhere(storage: KeyStorage, name: String) throws {
        let model = try LlamaModel(directory: Fixtures.model(name))
        let n = tokens.count
        let source = model.makeCache(capacity: 16, storage: storage)
        _ = try model.forward(tokens: tokens, positions: Array(0..<n), cache: source, outputs: .none)
        let slice = try source.export(sequence: 0, range: 0..<n)
        #expect(slice.count == n && slice.relativePositions == Array(0..<n))

        let target = model.makeCache(capacity: 32, storage: storage)
        try target.importSlice(slice, sequence: 2, at: 90)
        let actual = try model.forward(tokens: [next], positions: [90 + n], sequence: 2, cache: target)
        let fresh = model.makeCache(capacity: 32, storage: storage)
        _ = try model.forward(tokens: tokens, positions: Array(90..<(90 + n)), cache: fresh, outputs: .none)
        let expected = try model.forward(tokens: [next], positions: [90 + n], cache: fresh)
        #expect(maxAbsoluteDifference(actual.last, expected.last) <= 1e-4)
    }

    /// Truncation (remove the middle, shift the tail down) re-anchors the surviving cells exactly: the
    /// result equals placing the same cells at the new positions through export/import. (It is not a fresh
    /// prefill of the survivors: their deeper-layer K/V still carry the removed context.)
    @Test(arguments: modes, ["llama-tied", "rap-llama", "chan-qwen2-bias"])
    func truncateAndShiftEqualsPlacingTheSurvivors(storage: KeyStorage, name: String) throws {
        let model = try LlamaModel(directory: Fixtures.model(name))
        let n = tokens.count
        let truncated = model.makeCache(capacity: 32, storage: storage)
        _ = try model.forward(tokens: tokens, positions: Array(0..<n), cache: truncated, outputs: .none)
        let tail = try truncated.export(sequence: 0, range: 6..<n)
        truncated.remove(sequence: 0, range: 2..<6)
        try truncated.shift(sequence: 0, range: 6..<n, by: -4)
        let actual = try model.forward(tokens: [next], positions: [n - 4], cache: truncated)

        let placed = model.makeCache(capacity: 32, storage: storage)
        _ = try model.forward(tokens: Array(tokens[0..<2]), positions: [0, 1], cache: placed, outputs: .none)
        try placed.importSlice(tail, sequence: 0, at: 2)
        let expected = try model.forward(tokens: [next], positions: [n - 4], cache: placed)
        #expect(maxAbsoluteDifference(actual.last, expected.last) <= 1e-4)

        // The naive relabel (stale rotations) must not be equivalent: that is the failure it stands for.
        let naive = model.makeCache(capacity: 32, storage: storage)
        _ = try model.forward(tokens: tokens, positions: Array(0..<n), cache: naive, outputs: .none)
        naive.remove(sequence: 0, range: 2..<6)
        try naive.relabelWithoutRotation(sequence: 0, range: 6..<n, by: -4)
        let stale = try model.forward(tokens: [next], positions: [n - 4], cache: naive)
        #expect(maxAbsoluteDifference(stale.last, expected.last) > 1e-3)
    }
}

extension KeyStorage: CustomTestStringConvertible {
    public var testDescription: String { rawValue }
}
