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
        let rows = SequenceRows(sequence: sequence, tokens: tokens, positions: positions, outputs: outputs)
        return try run([rows], cache: cache, probe: probe)[0]
    }

    public func forward(batch: [SequenceRows], cache: KVCache) throws -> [Logits] {
        guard !batch.isEmpty else { throw ModelError.invalidInput("a batched forward needs at least one sequence") }
        return try run(batch, cache: cache, probe: nil)
    }

    /// The one forward path: the entries' rows, concatenated in order, through embeddings, blocks and head.
    /// A probe is only ever given with a single entry (the single-sequence `forward`).
    private func run(_ batch: [SequenceRows], cache: KVCache, probe: LayerProbe?) throws -> [Logits] {
        try validate(cache: cache, probe: probe)
        for entry in batch { try validate(tokens: entry.tokens, positions: entry.positions) }
        // Positions the sequence held before this call: the only rows a probe may drop.
        let held = probe?.select == nil ? [] : Set(cache.positions(of: batch[0].sequence)).intersection(batch[0].positions)
        let cells = try cache.reserve(batch.map { (sequence: $0.sequence, positions: $0.positions) })
        var segments: [RowSegment] = []
        var first = 0
        for entry in batch {
            segments.append(RowSegment(rows: first..<(first + entry.tokens.count), sequence: entry.sequence))
            first += entry.tokens.count
        }
        let x = embed(batch.flatMap(\.tokens))
        let kept: [Int]
        do {
            kept = try runBlocks(x, positions: batch.flatMap(\.positions), cells: cells.flatMap { $0 }, segments: segments,
                                 cache: cache, probe: probe, held: held)
        } catch {
            // Only a probe throws here (single entry), after lower layers wrote K/V: the call's positions hold a
            // mix of old and new layers, so none of them may be served. Remove them all.
            cache.remove(sequence: batch[0].sequence, positions: batch[0].positions)
            throw error
        }
        if probe?.select != nil { return head(x, entries: [HeadEntry(rows: 0..<kept.count, tokenIndices: kept, outputs: batch[0].outputs)]) }
        return head(x, entries: zip(segments, batch).map {
            HeadEntry(rows: $0.rows, tokenIndices: Array(0..<$0.rows.count), outputs: $1.outputs)
        })
    }

    private func validate(tokens: [Int], positions: [Int]) throws {
        guard !tokens.isEmpty else { throw ModelError.invalidInput("forward needs at least one token") }
        guard positions.count == tokens.count else { throw CacheError.positionCountMismatch(tokens: tokens.count, positions: positions.count) }
        for token in tokens where token < 0 || token >= config.vocabularySize {
            throw ModelError.invalidToken(token, vocabularySize: config.vocabularySize)
        }
    }

    private func validate(cache: KVCache, probe: LayerProbe?) throws {
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

    /// Runs the hidden rows `x` (`[T, hidden]`) through every block. Row `r` sits at `positions[r]`, writes
    /// its K/V into `cells[r]` and attends within its segment's sequence. A probe (one segment) may drop
    /// rows at its selection layer.
    /// - Returns: the indices (in the call's token list) of the rows left; `x` then holds their final
    ///   hidden states, in order.
    private func runBlocks(_ x: UnsafeMutablePointer<Float>, positions: [Int], cells: [Int], segments: [RowSegment],
                           cache: KVCache, probe: LayerProbe?, held: Set<Int>) throws -> [Int] {
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
        var segments = segments
        // Validated by reserve: within [0, positionLimit).
        var queryPositions = segments.map { segment in segment.rows.map { Int32(positions[$0]) } }

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
                count = kept.count
                segments = [RowSegment(rows: 0..<count, sequence: segments[0].sequence)]
                queryPositions = [positions.map { Int32($0) }]
                if count == 0 { return [] }
            }
            let captured = block.finishAttention(x: x, qkv: qkv, rows: count, layer: layer, cells: cells, segments: segments,
                                                 positions: queryPositions, cache: cache, weights: weights, workspace: w, cos: cos, sin: sin,
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

    /// One entry's rows for the head: its rows of `x`, their indices in the entry's token list, and which need logits.
    private struct HeadEntry {
        let rows: Range<Int>
        let tokenIndices: [Int]
        let outputs: LogitRows
    }

    /// Final norm and LM head, one matrix product over the rows every entry's `outputs` asks for.
    /// - Returns: one `Logits` per entry, reporting the rows' indices in the entry's token list.
    private func head(_ x: UnsafeMutablePointer<Float>, entries: [HeadEntry]) -> [Logits] {
        let hidden = config.hiddenSize
        let vocabulary = config.vocabularySize
        let selected: [[Int]] = entries.map { entry in
            switch entry.outputs {
            case .none: return []
            case .last: return entry.rows.isEmpty ? [] : [entry.rows.count - 1]
            case .all: return Array(0..<entry.rows.count)
            }
        }
        let rows = selected.reduce(0) { $0 + $1.count }
        var values = [Float](repeating: 0, count: rows * vocabulary)
        if rows > 0 {
            let normed = workspace.normed.reserve(rows * hidden)
            var target = 0
            for (entry, indices) in zip(entries, selected) {
                for index in indices {
                    Elementwise.rmsNorm(x + (entry.rows.lowerBound + index) * hidden, weight: weights.finalNorm.pointer, rows: 1,
                                        width: hidden, epsilon: config.rmsNormEpsilon, into: normed + target * hidden)
                    target += 1
                }
            }
            values.withUnsafeMutableBufferPointer { buffer in
                // rows >= 1 and vocabulary > 0 (validated config), so the buffer has a base address.
                guard let base = buffer.baseAddress else { return }
                weights.lmHead.apply(normed, count: rows, into: base, panel: &workspace.panel)
            }
        }
        var offset = 0
        return zip(entries, selected).map { entry, indices in
            // safe: rows selected from a batch the forward already allocated logits for (rows x vocabulary).
            let count = indices.count * vocabulary
            defer { offset += count }
            return Logits(vocabularySize: vocabulary, tokenIndices: indices.map { entry.tokenIndices[$0] },
                          values: count == 0 ? [] : Array(values[offset..<(offset + count)]))
        }
    }
}
