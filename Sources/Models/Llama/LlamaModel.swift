import Foundation
import Cache
import Kernels

/// A Llama-family causal LM (Llama 2/3, Mistral, Qwen2, TinyLlama, SmolLM): embeddings, `layers` blocks of
/// RMSNorm → GQA attention with RoPE → residual → RMSNorm → SwiGLU MLP → residual, final RMSNorm, LM head.
///
/// Ports `LlamaForCausalLM` from transformers. Position is an argument of `forward`, not a counter, and the
/// cache is the only state: the model itself is immutable apart from its scratch space, so one model
/// runs one forward pass at a time.
public final class LlamaModel: CausalLanguageModel {
    public let config: ModelConfig
    public let weights: LlamaWeights
    public let rotary: RotaryEmbedding
    private let block: LlamaBlock
    private let workspace = Workspace()

    /// Throws `ModelError.shapeMismatch` when a weight's shape is not what `config` says.
    public init(config: ModelConfig, weights: LlamaWeights) throws {
        try weights.checkShapes(against: config)
        self.config = config
        self.weights = weights
        rotary = config.rotary
        block = LlamaBlock(config: config, rotary: rotary)
    }

    /// Loads `config.json` and the safetensors weights from a Hugging Face model directory, keeping the
    /// matrices in `format` (`auto`: as the checkpoint stores them).
    public convenience init(directory: URL, format: WeightFormat = .auto) throws {
        let config = try ModelConfig(contentsOf: directory.appendingPathComponent("config.json"))
        let checkpoint = try Checkpoint(directory: directory)
        try self.init(config: config, weights: try LlamaWeights(checkpoint: checkpoint, config: config, format: format))
    }

    public func forward(tokens: [Int], positions: [Int], sequence: Int = 0, cache: KVCache, outputs: LogitRows = .last,
                        probe: LayerProbe? = nil) throws -> Logits {
        try validate(tokens: tokens, positions: positions, cache: cache, probe: probe)
        // Positions the sequence held before this call: the only rows a probe may drop.
        let held = probe?.select == nil ? [] : Set(cache.positions(of: sequence)).intersection(positions)
        let cells = try cache.reserve(sequence: sequence, positions: positions)
        let x = embed(tokens)
        let kept: [Int]
        do {
            kept = try runBlocks(x, positions: positions, cells: cells, sequence: sequence, cache: cache, probe: probe, held: held)
        } catch {
            // Only a probe throws here, after lower layers wrote K/V: the call's positions hold a mix of old and
            // new layers, so none of them may be served. Remove them all.
            cache.remove(sequence: sequence, positions: positions)
            throw error
        }
        return head(x, rows: kept, outputs: outputs)
    }

    private func validate(tokens: [Int], positions: [Int], cache: KVCache, probe: LayerProbe?) throws {
        guard !tokens.isEmpty else { throw ModelError.invalidInput("forward needs at least one token") }
        guard positions.count == tokens.count else { throw CacheError.positionCountMismatch(tokens: tokens.count, positions: positions.count) }
        for token in tokens where token < 0 || token >= config.vocabularySize {
            throw ModelError.invalidToken(token, vocabularySize: config.vocabularySize)
        }
        guard cache.geometry.with(capacity: 1) == cacheGeometry(capacity: 1), cache.rotary == rotary else {
            throw ModelError.invalidInput("cache geometry \(cache.geometry) or its RoPE does not match the model")
        }
        if let probe, probe.select != nil {
            guard let layer = probe.selectionLayer, layer >= 0, layer < config.layers else {
                throw ModelError.invalidInput("probe selection layer \(probe.selectionLayer.map(String.init) ?? "nil") is outside [0, \(config.layers))")
            }
        }
    }

    /// Embedding rows of `tokens` (validated) into the workspace's hidden state `[T, hidden]`.
    private func embed(_ tokens: [Int]) -> UnsafeMutablePointer<Float> {
        let hidden = config.hiddenSize
        let x = workspace.hidden.reserve(tokens.count * hidden)
        for (row, token) in tokens.enumerated() {
            weights.embeddings.copyRow(token, into: x + row * hidden)
        }
        return x
    }

    /// Runs the hidden rows `x` (`[T, hidden]`) through every block. Row `r` sits at `positions[r]` and
    /// writes its K/V into `cells[r]`. A probe may drop rows at its selection layer.
    /// - Returns: the indices (in the call's token list) of the rows left; `x` then holds their final
    ///   hidden states, in order.
    private func runBlocks(_ x: UnsafeMutablePointer<Float>, positions: [Int], cells: [Int], sequence: Int, cache: KVCache,
                           probe: LayerProbe?, held: Set<Int>) throws -> [Int] {
        var rowIndices = Array(positions.indices)
        var count = positions.count
        var positions = positions
        var cells = cells
        let hidden = config.hiddenSize
        let half = rotary.tableWidth  // floats per angle-table row
        let qkvWidth = config.qkvWidth
        let w = workspace
        let normed = w.normed.reserve(count * hidden)
        let qkv = w.qkv.reserve(count * qkvWidth)
        let cos = w.cos.reserve(count * half)
        let sin = w.sin.reserve(count * half)
        positions.withUnsafeBufferPointer { rotary.table(positions: $0, cos: cos, sin: sin) }
        var queryPositions = positions.map { Int32($0) }  // validated by reserve: within [0, positionLimit)

        for (layer, weights) in weights.blocks.enumerated() {
            Elementwise.rmsNorm(x, weight: weights.attentionNorm.pointer, rows: count, width: hidden,
                                epsilon: config.rmsNormEpsilon, into: normed)
            block.attention.project(normed, rows: count, layer: layer, weights: weights, cos: cos, sin: sin, into: qkv, panel: &w.panel)
            if let probe, let select = probe.select, probe.selectionLayer == layer {
                let kept = try select(fresh(qkv, rows: count, positions: positions, layer: layer, cos: cos, sin: sin))
                try check(kept, rows: count, positions: positions, held: held)
                for (target, source) in kept.enumerated() where target != source {
                    (x + target * hidden).update(from: x + source * hidden, count: hidden)
                    (qkv + target * qkvWidth).update(from: qkv + source * qkvWidth, count: qkvWidth)
                    (cos + target * half).update(from: cos + source * half, count: half)
                    (sin + target * half).update(from: sin + source * half, count: half)
                }
                positions = kept.map { positions[$0] }
                cells = kept.map { cells[$0] }
                rowIndices = kept.map { rowIndices[$0] }
                queryPositions = positions.map { Int32($0) }
                count = kept.count
                if count == 0 { return [] }
            }
            let captured = block.finishAttention(x: x, qkv: qkv, rows: count, layer: layer, cells: cells, positions: queryPositions,
                                                 sequence: sequence, cache: cache, weights: weights, workspace: w, cos: cos, sin: sin,
                                                 captureWeights: probe?.attention != nil)
            probe?.attention?(layer, captured)
            block.finishMLP(x: x, rows: count, weights: weights, workspace: w)
        }
        return rowIndices
    }

    /// A copy of the rows' fresh projections for a probe: queries rotated, keys rotated to the rows' positions.
    private func fresh(_ qkv: UnsafePointer<Float>, rows: Int, positions: [Int], layer: Int, cos: UnsafePointer<Float>,
                       sin: UnsafePointer<Float>) -> FreshProjections {
        let qWidth = config.heads * config.keyDimension
        let kvWidth = config.kvHeads * config.keyDimension
        let valueWidth = config.kvHeads * config.valueDimension
        var queries = [Float](repeating: 0, count: rows * qWidth)
        var keys = [Float](repeating: 0, count: rows * kvWidth)
        var values = [Float](repeating: 0, count: rows * valueWidth)
        for row in 0..<rows {
            let source = qkv + row * config.qkvWidth
            for i in 0..<qWidth { queries[row * qWidth + i] = source[i] }
            for i in 0..<kvWidth { keys[row * kvWidth + i] = source[qWidth + i] }
            for i in 0..<valueWidth { values[row * valueWidth + i] = source[qWidth + kvWidth + i] }
        }
        keys.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            rotary.rotate(base, rows: rows, heads: config.kvHeads, rowStride: kvWidth, cos: cos, sin: sin, layer: layer)
        }
        return FreshProjections(layer: layer, heads: config.heads, kvHeads: config.kvHeads, headDimension: config.headDimension,
                                keyDimension: config.keyDimension, valueDimension: config.valueDimension, positions: positions,
                                queries: queries, keys: keys, values: values)
    }

    /// A probe's selection must be ascending row indices that drop only rows whose position was held before.
    private func check(_ kept: [Int], rows: Int, positions: [Int], held: Set<Int>) throws {
        var previous = -1
        for row in kept {
            guard row > previous, row < rows else {
                throw ModelError.invalidInput("probe selection must be ascending row indices in [0, \(rows)), found \(kept.prefix(8))")
            }
            previous = row
        }
        let keptSet = Set(kept)
        for row in 0..<rows where !keptSet.contains(row) && !held.contains(positions[row]) {
            throw ModelError.invalidInput("probe dropped the row at position \(positions[row]), which holds no earlier K/V")
        }
    }

    /// Final norm and LM head on the rows `outputs` asks for, of the rows left in `x` (`rows`: their
    /// indices in the call's token list, which the logits report).
    private func head(_ x: UnsafeMutablePointer<Float>, rows kept: [Int], outputs: LogitRows) -> Logits {
        let hidden = config.hiddenSize
        let vocabulary = config.vocabularySize
        let count = kept.count
        let indices: [Int]
        switch outputs {
        case .none: indices = []
        case .last: indices = count > 0 ? [count - 1] : []
        case .all: indices = Array(0..<count)
        }
        guard let firstIndex = indices.first else {
            return Logits(vocabularySize: vocabulary, tokenIndices: [], values: [])
        }
        let rows = indices.count
        let normed = workspace.normed.reserve(rows * hidden)
        let source = x + firstIndex * hidden  // the requested rows are contiguous: [first, count)
        Elementwise.rmsNorm(source, weight: weights.finalNorm.pointer, rows: rows, width: hidden,
                            epsilon: config.rmsNormEpsilon, into: normed)
        var values = [Float](repeating: 0, count: rows * vocabulary)
        values.withUnsafeMutableBufferPointer { buffer in
            // rows >= 1 and vocabulary > 0 (validated config), so the buffer has a base address.
            guard let base = buffer.baseAddress else { return }
            weights.lmHead.apply(normed, count: rows, into: base, panel: &workspace.panel)
        }
        return Logits(vocabularySize: vocabulary, tokenIndices: indices.map { kept[$0] }, values: values)
    }
}
