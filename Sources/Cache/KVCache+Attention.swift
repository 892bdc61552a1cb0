import Kernels

/// Attention over the cache, and safe read views of what it holds. Both are right for every key-storage
/// mode: keys come out rotated to their current positions whether they are stored rotated (`.post`,
/// `.anchored`) or canonical (`.pre`).
extension KVCache {
    /// Scaled dot-product attention of `rows` queries of `sequence` over layer `layer`: each query sees the
    /// sequence's cells at positions up to its own (and, with `window`, above `position - window`).
    /// - queries: `[rows, heads, dk]`, rotated; out: `[rows, heads, dv]`; queryPositions: `[rows]`.
    /// - Returns: with `weights`, the attention weights `[rows, heads, n]` over the sequence's `n` cells
    ///   ordered by position (0 where masked); otherwise an empty array.
    public func attend(layer: Int, queries: UnsafePointer<Float>, rows: Int, queryPositions: [Int32], sequence: Int,
                       heads: Int, window: Int?, out: UnsafeMutablePointer<Float>, weights: Bool = false) -> [Float] {
        precondition(layer >= 0 && layer < geometry.layers && queryPositions.count == rows && rows > 0
                     && heads % geometry.kvHeads == 0, "KVCache.attend: shapes do not match the cache")
        // Only the span of cells holding this sequence is scored: the rest of the pool (other running and parked
        // sequences) would be masked out anyway. Captured weights are gathered over the whole pool.
        let span = weights ? 0..<used : cells.span(of: Int32(clamping: sequence)) ?? 0..<used
        let first = span.lowerBound
        let cellCount = span.count
        let shape = Attention.Shape(heads: heads, kvHeads: geometry.kvHeads, headDimension: geometry.headDimension,
                                    keyDimension: geometry.keyDimension, valueDimension: geometry.valueDimension)
        let scoreBuffer = scores.reserve(Attention.scratchCount(shape: shape, queries: rows, cells: cellCount, capturing: weights))
        let offset = rotary.tableOffset(layer: layer)
        let tableStart = offset + first * rotary.tableWidth
        let rotation = storage == .pre ? RotationTable(rows: cellCount, cos: tensors.cellCos.pointer + tableStart,
                                                       sin: tensors.cellSin.pointer + tableStart,
                                                       rowStride: rotary.tableWidth, heads: rotary.tableHeads) : nil
        let rotated = rotation != nil && rows > 1 ? rotatedKeys.reserve(max(cellCount, 1) * geometry.keyWidth) : nil
        var probabilities = [Float](repeating: 0, count: weights ? rows * heads * cellCount : 0)
        cells.withUnsafeMetadata { cellPositions, cellSequences in
            queryPositions.withUnsafeBufferPointer { positions in
                probabilities.withUnsafeMutableBufferPointer { captured in
                    // rows > 0 (checked above), so the positions array has a base address.
                    guard let positionsBase = positions.baseAddress else { return }
                    let mask = AttentionMask(cellPositions: cellPositions + first, cellSequences: cellSequences + first,
                                             queryPositions: positionsBase, sequence: Int32(clamping: sequence),
                                             window: window.map { Int32(clamping: $0) })
                    Attention.compute(shape: shape, q: queries, queries: rows, keys: tensors.keys[layer].pointer + first * geometry.keyWidth,
                                      values: tensors.values[layer].pointer + first * geometry.valueWidth, cells: cellCount, mask: mask,
                                      scores: scoreBuffer,
                                      out: out, keyRotation: rotation, rotatedKeys: rotated,
                                      probabilities: weights ? captured.baseAddress : nil)
                }
            }
        }
        guard weights else { return [] }
        // Gather the sequence's columns in position order: [rows, heads, n].
        let columns = cells(of: sequence)
        var ordered = [Float](repeating: 0, count: rows * heads * columns.count)
        for line in 0..<(rows * heads) {
            for (index, cell) in columns.enumerated() { ordered[line * columns.count + index] = probabilities[line * cellCount + cell] }
        }
        return ordered
    }

    /// The cells of `sequence` at `positions`, or an error naming the first position it does not hold.
    private func heldCells(sequence: Int, positions: [Int], layer: Int) throws -> [Int] {
        guard layer >= 0, layer < geometry.layers else { throw CacheError.invalidView("layer \(layer) of \(geometry.layers)") }
        try validate(sequence: sequence)
        return try positions.map { position in
            guard position >= 0, position < positionLimit,
                  let cell = cells.cell(sequence: Int32(sequence), position: Int32(position)) else {
                throw CacheError.positionNotHeld(sequence: sequence, position: position)
            }
            return cell
        }
    }

    /// Keys of `sequence` at `positions` in layer `layer`, rotated to those positions: `[n, kvHeads, dk]`.
    public func keys(layer: Int, sequence: Int, positions: [Int]) throws -> [Float] {
        let selected = try heldCells(sequence: sequence, positions: positions, layer: layer)
        var out = gather(tensors.keys[layer], width: geometry.keyWidth, cells: selected)
        if storage == .pre, !positions.isEmpty {
            let angles = table(for: positions)
            out.withUnsafeMutableBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                rotary.rotate(base, rows: positions.count, heads: geometry.kvHeads, rowStride: geometry.keyWidth,
                              cos: angles.cos, sin: angles.sin, layer: layer)
            }
        }
        return out
    }

    /// Values of `sequence` at `positions` in layer `layer`: `[n, kvHeads, dv]`.
    public func values(layer: Int, sequence: Int, positions: [Int]) throws -> [Float] {
        gather(tensors.values[layer], width: geometry.valueWidth,
               cells: try heldCells(sequence: sequence, positions: positions, layer: layer))
    }

    /// Softmax attention weights `[rows, heads, n]` of `queries` (`[rows, heads, dk]`, rotated) over the
    /// keys `sequence` holds at `positions` in layer `layer`, with no mask: the caller chooses the cells.
    public func attentionWeights(layer: Int, sequence: Int, queries: [Float], heads: Int, positions: [Int]) throws -> [Float] {
        let d = geometry.keyDimension
        guard heads > 0, heads % geometry.kvHeads == 0, queries.count % (heads * d) == 0 else {
            throw CacheError.invalidView("\(queries.count) query floats for \(heads) heads of \(d)")
        }
        let keys = try keys(layer: layer, sequence: sequence, positions: positions)
        let rows = queries.count / (heads * d)
        let n = positions.count
        let group = heads / geometry.kvHeads
        let width = geometry.keyWidth
        let scale = 1 / Float(geometry.headDimension).squareRoot()
        var weights = [Float](repeating: 0, count: rows * heads * n)
        guard n > 0 else { return weights }
        queries.withUnsafeBufferPointer { q in
            keys.withUnsafeBufferPointer { k in
                weights.withUnsafeMutableBufferPointer { w in
                    guard let q = q.baseAddress, let k = k.baseAddress, let w = w.baseAddress else { return }
                    for row in 0..<rows {
                        for h in 0..<heads {
                            let query = q + (row * heads + h) * d
                            let target = w + (row * heads + h) * n
                            for j in 0..<n {
                                let key = k + j * width + (h / group) * d
                                var dot: Float = 0
                                for i in 0..<d { dot += query[i] * key[i] }
                                target[j] = dot * scale
                            }
                            Elementwise.softmax(target, count: n)
                        }
                    }
                }
            }
        }
        return weights
    }

    private func gather(_ buffer: FloatBuffer, width: Int, cells selected: [Int]) -> [Float] {
        var out = [Float](repeating: 0, count: selected.count * width)
        out.withUnsafeMutableBufferPointer { target in
            guard let base = target.baseAddress else { return }
            for (row, cell) in selected.enumerated() { (base + row * width).update(from: buffer.pointer + cell * width, count: width) }
        }
        return out
    }
}
