import Foundation
import Kernels
import Cache

/// A Llama-family causal LM (Llama 2/3, Mistral, Qwen2, TinyLlama, SmolLM): embeddings, `layers` blocks of
/// RMSNorm → GQA attention with RoPE → residual → RMSNorm → SwiGLU MLP → residual, final RMSNorm, LM head.
///
/// Ports `LlamaForCausalLM` from transformers. Position is an argument of `forward`, not a counter, and the
/// cache is the only state: the model itself is immutable apart from its scratch space.
public final class LlamaModel {
    public let config: ModelConfig
    public let weights: LlamaWeights
    public let rotary: RotaryEmbedding
    private let workspace = Workspace()

    public init(config: ModelConfig, weights: LlamaWeights) {
        self.config = config
        self.weights = weights
        rotary = config.rotary
    }

    /// Loads `config.json` and the safetensors weights from a Hugging Face model directory.
    public convenience init(directory: URL) throws {
        let config = try ModelConfig(contentsOf: directory.appendingPathComponent("config.json"))
        let checkpoint = try Checkpoint(directory: directory)
        self.init(config: config, weights: try LlamaWeights(checkpoint: checkpoint, config: config))
    }

    /// The cache shape this model writes, for `capacity` tokens.
    public func cacheGeometry(capacity: Int) -> CacheGeometry {
        CacheGeometry(layers: config.layers, kvHeads: config.kvHeads, headDimension: config.headDimension, capacity: capacity)
    }

    /// A new empty cache for this model; keys stored per `storage` (default `.anchored`).
    public func makeCache(capacity: Int, storage: KeyStorage = .anchored) -> KVCache {
        KVCache(geometry: cacheGeometry(capacity: capacity), rotary: rotary, storage: storage)
    }

    /// Runs `tokens` at `positions` for `sequence`, appending their K/V to `cache`, and returns logits.
    ///
    /// Each token attends to the cells of its sequence whose position is at most its own (including the
    /// tokens of this call). Throws before touching the cache when an input is invalid.
    /// - tokens, positions: `[T]`; returns rows per `outputs`, each `[vocabularySize]`.
    /// - capture: receives each layer's attention weights of the call's tokens, `[T, heads, cache.used]`.
    public func forward(tokens: [Int], positions: [Int], sequence: Int = 0, cache: KVCache,
                        outputs: LogitRows = .last, capture: ((Int, [Float]) -> Void)? = nil) throws -> Logits {
        guard !tokens.isEmpty else { throw ModelError.invalidInput("forward needs at least one token") }
        guard positions.count == tokens.count else { throw CacheError.positionCountMismatch(tokens: tokens.count, positions: positions.count) }
        for token in tokens where token < 0 || token >= config.vocabularySize {
            throw ModelError.invalidToken(token, vocabularySize: config.vocabularySize)
        }
        guard cache.geometry.layers == config.layers, cache.geometry.cellWidth == config.kvHeads * config.headDimension else {
            throw ModelError.invalidInput("cache geometry \(cache.geometry) does not match the model")
        }
        let first = try cache.reserve(sequence: sequence, positions: positions)
        let x = embed(tokens)
        let count = runLayers(x, positions: positions, cells: Array(first..<(first + tokens.count)), sequence: sequence, cache: cache,
                              capture: capture)
        return head(x, count: count, outputs: outputs, normed: workspace.normed.reserve(count * config.hiddenSize))
    }

    /// Selective recompute entry points (used by the engine's prompt composer): embed, run the blocks over
    /// rows already placed in `cache` cells with a row selection, and the LM head on the last row.
    public func embedForComposition(_ tokens: [Int]) -> UnsafeMutablePointer<Float> { embed(tokens) }

    public func runForComposition(_ x: UnsafeMutablePointer<Float>, positions: [Int], cells: [Int], sequence: Int = 0,
                                  cache: KVCache, selection: RowSelection?, capture: ((Int, [Float]) -> Void)?) -> Int {
        runLayers(x, positions: positions, cells: cells, sequence: sequence, cache: cache, selection: selection, capture: capture)
    }

    public func headForComposition(_ x: UnsafeMutablePointer<Float>, count: Int) -> Logits {
        head(x, count: count, outputs: .last, normed: workspace.normed.reserve(max(count, 1) * config.hiddenSize))
    }

    /// Embedding rows of `tokens` into the workspace's hidden state `[T, hidden]`.
    func embed(_ tokens: [Int]) -> UnsafeMutablePointer<Float> {
        let hidden = config.hiddenSize
        let x = workspace.hidden.reserve(tokens.count * hidden)
        for (row, token) in tokens.enumerated() {
            (x + row * hidden).update(from: weights.embeddings.storage.pointer + token * hidden, count: hidden)
        }
        return x
    }

    /// Chooses, at one layer, which rows continue: given the fresh Q/K/V of every row (`qkv`,
    /// `[rows, qkvWidth]`: queries rotated, keys canonical) before they are written, their cells and their
    /// rotation table (`[rows, d/2]`), returns the indices of the rows to keep computing. Rows not kept stop
    /// there; their cells keep the K/V already cached (selective recompute, CacheBlend).
    public struct RowSelection {
        public let layer: Int
        public let choose: (_ qkv: UnsafePointer<Float>, _ rows: Int, _ cells: [Int], _ angles: RotationTable) -> [Int]
        public init(layer: Int, choose: @escaping (UnsafePointer<Float>, Int, [Int], RotationTable) -> [Int]) {
            self.layer = layer
            self.choose = choose
        }
    }

    /// Runs the hidden rows `x` (`[T, hidden]`, in the workspace) through every block. Row `r` sits at
    /// `positions[r]` and writes its K/V into cache cell `cells[r]` (already reserved for `sequence`).
    /// With `selection`, rows are dropped at its layer. `capture`, if given, receives each layer's attention
    /// weights of the rows still computed, `[rows, heads, cache.used]`.
    /// - Returns: the number of rows left; `x` then holds their final hidden states, in order.
    @discardableResult
    func runLayers(_ x: UnsafeMutablePointer<Float>, positions: [Int], cells: [Int], sequence: Int, cache: KVCache,
                   selection: RowSelection? = nil, capture: ((Int, [Float]) -> Void)? = nil) -> Int {
        var count = positions.count
        var positions = positions
        var cells = cells
        let hidden = config.hiddenSize
        let d = config.headDimension
        let half = d / 2
        let qWidth = config.heads * d
        let kvWidth = config.kvHeads * d
        let qkvWidth = config.qkvWidth
        let inter = config.intermediateSize
        let w = workspace
        let normed = w.normed.reserve(count * hidden)
        let qkv = w.qkv.reserve(count * qkvWidth)
        let queries = w.queries.reserve(count * qWidth)
        let attended = w.attended.reserve(count * qWidth)
        let projected = w.projected.reserve(count * hidden)
        let gateUp = w.gateUp.reserve(count * 2 * inter)
        let activated = w.activated.reserve(count * inter)
        let cos = w.cos.reserve(count * half)
        let sin = w.sin.reserve(count * half)
        let cacheCells = cache.used
        let scores = w.scores.reserve(max(Attention.blockRows, config.heads) * cacheCells)
        let keyRotation = cache.attentionRotation
        let rotatedKeys = keyRotation != nil && count > 1 ? w.rotatedKeys.reserve(cacheCells * kvWidth) : nil
        w.positions.removeAll(keepingCapacity: true)
        w.positions.append(contentsOf: positions.map { Int32($0) })
        positions.withUnsafeBufferPointer { rotary.table(positions: $0, cos: cos, sin: sin) }
        let shape = Attention.Shape(heads: config.heads, kvHeads: config.kvHeads, headDimension: d)
        let window = config.slidingWindow.map { Int32(clamping: $0) }

        for (layer, block) in weights.blocks.enumerated() {
            Elementwise.rmsNorm(x, weight: block.attentionNorm.pointer, rows: count, width: hidden,
                                epsilon: config.rmsNormEpsilon, into: normed)
            block.qkv.apply(normed, count: count, into: qkv)
            if let bias = block.qkvBias { Elementwise.addBias(bias.pointer, rows: count, width: qkvWidth, into: qkv) }
            rotary.rotate(qkv, rows: count, heads: config.heads, rowStride: qkvWidth, cos: cos, sin: sin)
            if let selection, selection.layer == layer {
                let kept = selection.choose(qkv, count, cells, RotationTable(rows: count, cos: cos, sin: sin))
                for (target, source) in kept.enumerated() where target != source {
                    (x + target * hidden).update(from: x + source * hidden, count: hidden)
                    (qkv + target * qkvWidth).update(from: qkv + source * qkvWidth, count: qkvWidth)
                    (cos + target * half).update(from: cos + source * half, count: half)
                    (sin + target * half).update(from: sin + source * half, count: half)
                }
                positions = kept.map { positions[$0] }
                cells = kept.map { cells[$0] }
                w.positions = positions.map { Int32($0) }
                count = kept.count
                if count == 0 { return 0 }
            }
            // One write per run of consecutive cells (a whole prompt is one run; selected rows are a few).
            var start = 0
            while start < count {
                var end = start + 1
                while end < count, cells[end] == cells[end - 1] + 1 { end += 1 }
                cache.write(layer: layer, first: cells[start], count: end - start, canonicalKeys: qkv + start * qkvWidth + qWidth,
                            newValues: qkv + start * qkvWidth + qWidth + kvWidth, rowStride: qkvWidth,
                            table: RotationTable(rows: end - start, cos: cos + start * half, sin: sin + start * half))
                start = end
            }
            // Queries packed to [T, heads, d] for the attention kernel.
            for row in 0..<count { (queries + row * qWidth).update(from: qkv + row * qkvWidth, count: qWidth) }
            var probabilities = [Float](repeating: 0, count: capture == nil ? 0 : count * config.heads * cacheCells)
            cache.withMetadata { cellPositions, cellSequences in
                w.positions.withUnsafeBufferPointer { queryPositions in
                    // safe: count > 0 (checked by callers and after selection), so the array has a base address.
                    let mask = AttentionMask(cellPositions: cellPositions, cellSequences: cellSequences,
                                             queryPositions: queryPositions.baseAddress!, sequence: Int32(sequence), window: window)
                    probabilities.withUnsafeMutableBufferPointer { capturePointer in
                        Attention.compute(shape: shape, q: queries, queries: count, keys: cache.keys[layer].pointer,
                                          values: cache.values[layer].pointer, cells: cacheCells, mask: mask, scores: scores,
                                          out: attended, keyRotation: keyRotation, rotatedKeys: rotatedKeys,
                                          probabilities: capture == nil ? nil : capturePointer.baseAddress)
                    }
                }
            }
            capture?(layer, probabilities)
            block.output.apply(attended, count: count, into: projected)
            Elementwise.add(projected, into: x, count: count * hidden)

            Elementwise.rmsNorm(x, weight: block.mlpNorm.pointer, rows: count, width: hidden,
                                epsilon: config.rmsNormEpsilon, into: normed)
            block.gateUp.apply(normed, count: count, into: gateUp)
            Elementwise.swiGLU(gateUp, rows: count, width: inter, into: activated)
            block.down.apply(activated, count: count, into: projected)
            Elementwise.add(projected, into: x, count: count * hidden)
        }
        return count
    }

    /// Final norm and LM head on the rows `outputs` asks for.
    func head(_ x: UnsafeMutablePointer<Float>, count: Int, outputs: LogitRows, normed: UnsafeMutablePointer<Float>) -> Logits {
        let hidden = config.hiddenSize
        let vocabulary = config.vocabularySize
        let indices: [Int]
        switch outputs {
        case .none: indices = []
        case .last: indices = [count - 1]
        case .all: indices = Array(0..<count)
        }
        guard let firstIndex = indices.first else {
            return Logits(vocabularySize: vocabulary, tokenIndices: [], values: [])
        }
        let rows = indices.count
        let source = x + firstIndex * hidden  // the requested rows are contiguous: [first, count)
        Elementwise.rmsNorm(source, weight: weights.finalNorm.pointer, rows: rows, width: hidden,
                            epsilon: config.rmsNormEpsilon, into: normed)
        let values = [Float](unsafeUninitializedCapacity: rows * vocabulary) { buffer, initialized in
            // safe: capacity rows * vocabulary > 0 because rows >= 1 and vocabulary > 0 (validated config).
            weights.lmHead.apply(normed, count: rows, into: buffer.baseAddress!)
            initialized = rows * vocabulary
        }
        return Logits(vocabularySize: vocabulary, tokenIndices: indices, values: values)
    }
}
