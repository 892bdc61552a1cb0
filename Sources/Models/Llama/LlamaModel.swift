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
        var selections: [Int: RowSelection] = [:]
        if let probe, let select = probe.select {
            guard let layer = probe.selectionLayer else { throw ModelError.invalidInput("probe selection layer nil is outside [0, \(config.layers))") }
            selections[0] = RowSelection(layer: layer, select: select)
        }
        return try run([rows], cache: cache, selections: selections, attention: probe?.attention)[0]
    }

    public func forward(batch: [SequenceRows], cache: KVCache, selections: [Int: RowSelection]) throws -> [Logits] {
        guard !batch.isEmpty else { throw ModelError.invalidInput("a batched forward needs at least one sequence") }
        return try run(batch, cache: cache, selections: selections, attention: nil)
    }

    /// The one forward path: the entries' rows, concatenated in order, through embeddings, blocks and head.
    /// Attention weights are captured only with a single entry (the single-sequence `forward`'s probe).
    private func run(_ batch: [SequenceRows], cache: KVCache, selections: [Int: RowSelection],
                     attention: ((Int, [Float]) -> Void)?) throws -> [Logits] {
        try validate(cache: cache)
        for entry in batch { try validate(tokens: entry.tokens, positions: entry.positions) }
        for (index, selection) in selections {
            guard batch.indices.contains(index) else {
                throw ModelError.invalidInput("selection for entry \(index) of a \(batch.count)-entry batch")
            }
            guard selection.layer >= 0, selection.layer < config.layers else {
                throw ModelError.invalidInput("selection layer \(selection.layer) is outside [0, \(config.layers))")
            }
        }
        // Per entry with a selection, the positions its sequence held before this call: the only rows it may drop.
        var held: [Int: Set<Int>] = [:]
        for index in selections.keys {
            held[index] = Set(cache.positions(of: batch[index].sequence)).intersection(batch[index].positions)
        }
        let cells = try cache.reserve(batch.map { (sequence: $0.sequence, positions: $0.positions) })
        var entries: [BatchEntry] = []
        var first = 0
        for (index, entry) in batch.enumerated() {
            entries.append(BatchEntry(rows: first..<(first + entry.tokens.count), sequence: entry.sequence,
                                      selection: selections[index], held: held[index] ?? []))
            first += entry.tokens.count
        }
        let x = embed(batch.flatMap(\.tokens))
        let kept: [BatchEntry]
        let rowIndices: [Int]
        do {
            (kept, rowIndices) = try runBlocks(x, positions: batch.flatMap(\.positions), cells: cells.flatMap { $0 }, entries: entries,
                                               cache: cache, attention: attention)
        } catch {
            // Only a selection throws here, after lower layers wrote K/V: the call's positions hold a mix of old
            // and new layers, so none of them may be served. Remove them all.
            for entry in batch { cache.remove(sequence: entry.sequence, positions: entry.positions) }
            throw error
        }
        return head(x, entries: zip(zip(entries, kept), batch).map { pair, entry in
            let (original, now) = pair
            return HeadEntry(rows: now.rows, tokenIndices: rowIndices[now.rows].map { $0 - original.rows.lowerBound }, outputs: entry.outputs)
        })
    }

    private func validate(tokens: [Int], positions: [Int]) throws {
        guard !tokens.isEmpty else { throw ModelError.invalidInput("forward needs at least one token") }
        guard positions.count == tokens.count else { throw CacheError.positionCountMismatch(tokens: tokens.count, positions: positions.count) }
        for token in tokens where token < 0 || token >= config.vocabularySize {
            throw ModelError.invalidToken(token, vocabularySize: config.vocabularySize)
        }
    }

    private func validate(cache: KVCache) throws {
        guard cache.geometry.with(capacity: 1) == cacheGeometry(capacity: 1), cache.rotary == rotary else {
            throw ModelError.invalidInput("cache geometry \(cache.geometry) or its RoPE does not match the model")
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
    /// its K/V into `cells[r]` and attends within its entry's sequence. An entry with a selection may drop rows
    /// at the selection's layer; the rows left are packed to the front of `x`, in order.
    /// - Returns: each entry's rows after the last layer, and for every row left its index in the call's token list.
    private func runBlocks(_ x: UnsafeMutablePointer<Float>, positions: [Int], cells: [Int], entries: [BatchEntry],
                           cache: KVCache, attention: ((Int, [Float]) -> Void)?) throws -> ([BatchEntry], [Int]) {
        var rowIndices = Array(positions.indices)
        var count = positions.count
        var positions = positions
        var cells = cells
        var entries = entries
        let hidden = config.hiddenSize
        let half = rotary.tableWidth  // floats per angle-table row
        let qkvWidth = config.qkvWidth
        let w = workspace
        let normed = w.normed.reserve(count * hidden)
        let qkv = w.qkv.reserve(count * qkvWidth)
        let cos = w.cos.reserve(count * half)
        let sin = w.sin.reserve(count * half)
        positions.withUnsafeBufferPointer { rotary.table(positions: $0, cos: cos, sin: sin) }
        var segments = Self.segments(of: entries)
        // Validated by reserve: within [0, positionLimit).
        var queryPositions = segments.map { segment in segment.rows.map { Int32(positions[$0]) } }

        for (layer, weights) in weights.blocks.enumerated() {
            Elementwise.rmsNorm(x, weight: weights.attentionNorm.pointer, rows: count, width: hidden,
                                epsilon: config.rmsNormEpsilon, into: normed)
            block.attention.project(normed, rows: count, layer: layer, weights: weights, cos: cos, sin: sin, into: qkv, panel: &w.panel)
            if entries.contains(where: { $0.selection?.layer == layer }) {
                var keep: [Int] = []
                for (index, entry) in entries.enumerated() {
                    let start = keep.count
                    if let selection = entry.selection, selection.layer == layer {
                        let rows = entry.rows
                        let entryPositions = Array(positions[rows])
                        let chosen = try selection.select(fresh(qkv + rows.lowerBound * qkvWidth, rows: rows.count, positions: entryPositions,
                                                                layer: layer, cos: cos + rows.lowerBound * half, sin: sin + rows.lowerBound * half))
                        try check(chosen, rows: rows.count, positions: entryPositions, held: entry.held)
                        keep += chosen.map { rows.lowerBound + $0 }
                    } else {
                        keep += Array(entry.rows)
                    }
                    entries[index].rows = start..<keep.count
                }
                for (target, source) in keep.enumerated() where target != source {
                    (x + target * hidden).update(from: x + source * hidden, count: hidden)
                    (qkv + target * qkvWidth).update(from: qkv + source * qkvWidth, count: qkvWidth)
                    (cos + target * half).update(from: cos + source * half, count: half)
                    (sin + target * half).update(from: sin + source * half, count: half)
                }
                positions = keep.map { positions[$0] }
                cells = keep.map { cells[$0] }
                rowIndices = keep.map { rowIndices[$0] }
                count = keep.count
                segments = Self.segments(of: entries)
                queryPositions = segments.map { segment in segment.rows.map { Int32(positions[$0]) } }
                if count == 0 { return (entries, []) }
            }
            let captured = block.finishAttention(x: x, qkv: qkv, rows: count, layer: layer, cells: cells, segments: segments,
                                                 positions: queryPositions, cache: cache, weights: weights, workspace: w, cos: cos, sin: sin,
                                                 captureWeights: attention != nil)
            attention?(layer, captured)
            block.finishMLP(x: x, rows: count, weights: weights, workspace: w)
        }
        return (entries, rowIndices)
    }

    /// The attention segments of the entries that still have rows.
    private static func segments(of entries: [BatchEntry]) -> [RowSegment] {
        entries.filter { !$0.rows.isEmpty }.map { RowSegment(rows: $0.rows, sequence: $0.sequence) }
    }

    /// A copy of the rows' fresh projections for a selection: queries rotated, keys rotated to the rows' positions.
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

    /// A selection must be ascending row indices that drop only rows whose position was held before.
    private func check(_ kept: [Int], rows: Int, positions: [Int], held: Set<Int>) throws {
        var previous = -1
        for row in kept {
            guard row > previous, row < rows else {
                throw ModelError.invalidInput("a selection must be ascending row indices in [0, \(rows)), found \(kept.prefix(8))")
            }
            previous = row
        }
        let keptSet = Set(kept)
        for row in 0..<rows where !keptSet.contains(row) && !held.contains(positions[row]) {
            throw ModelError.invalidInput("a selection dropped the row at position \(positions[row]), which holds no earlier K/V")
        }
    }

    /// One entry of a pass: its rows in the current row order, its sequence, its selection and the positions
    /// it held before the call (which a selection may drop).
    private struct BatchEntry {
        var rows: Range<Int>
        let sequence: Int
        let selection: RowSelection?
        let held: Set<Int>
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
                          values: count == 0 ? [] : Array(values[offset..<(offset + count)]))  // safe: within the logits allocated above
        }
    }
}
