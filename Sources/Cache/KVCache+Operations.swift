import Kernels

/// Sequence operations over half-open position ranges, as in llama.cpp's `llama_kv_cache_seq_*`.
/// Each validates everything first and then applies, so a throwing call changes nothing.
extension KVCache {
    /// Cells of `sequence` whose position lies in `range` (all of them when nil), ordered by position.
    func cells(of sequence: Int, in range: Range<Int>? = nil) -> [Int] {
        guard sequence >= 0, sequence < Int(Int32.max) else { return [] }
        return cells.cells(of: Int32(sequence), in: range)
    }

    func validate(range: Range<Int>) throws {
        guard range.lowerBound >= 0, !range.isEmpty else {
            throw CacheError.invalidRange(lower: range.lowerBound, upper: range.upperBound)
        }
    }

    /// Frees every cell of `sequence` whose position lies in `range` (all of them when nil); memory is
    /// released once most cells are free.
    public func remove(sequence: Int, range: Range<Int>? = nil) {
        for c in cells(of: sequence, in: range) { cells.free(c) }
        releaseIfSparse()
    }

    /// Frees the cells `sequence` holds at `positions` (any order, gaps allowed; positions it does not
    /// hold are ignored), then releases memory once, as `remove(sequence:range:)` does.
    public func remove(sequence: Int, positions: [Int]) {
        guard sequence >= 0, sequence < Int(Int32.max) else { return }
        for position in positions where position >= 0 && position < positionLimit {
            if let c = cells.cell(sequence: Int32(sequence), position: Int32(position)) { cells.free(c) }
        }
        releaseIfSparse()
    }

    /// Frees every cell not owned by `sequence`.
    public func keep(sequence: Int) {
        for other in cells.sequenceIDs where Int(other) != sequence {
            for c in cells.cells(of: other) { cells.free(c) }
        }
        releaseIfSparse()
    }

    /// Compacts when at least half of the handed-out cells are free, so memory follows the cells held.
    private func releaseIfSparse() {
        if used > 0, 2 * occupied <= used { compact() } else { tensors.shrink(toFit: used) }
    }

    /// Moves the cells of `sequence` in `range` by `delta` positions: metadata first, then one rotation pass
    /// (`.post`: rotate the stored keys by the delta; `.anchored`: re-derive live keys from the canonical
    /// ones at the new positions; `.pre`: refresh the per-cell angles).
    /// - Returns: the number of cells moved.
    @discardableResult
    public func shift(sequence: Int, range: Range<Int>, by delta: Int) throws -> Int {
        let moved = try prepareMove(sequence: sequence, range: range, delta: delta)
        guard delta != 0 else { return moved.count }
        cells.move(moved, to: moved.map { cells.positions[$0] + Int32(delta) })
        for run in Self.contiguousRuns(moved.sorted()) { rotateRun(run, delta: delta) }
        return moved.count
    }

    /// Changes the positions of the cells of `sequence` in `range` by `delta` without touching the keys:
    /// the "naive" post-RoPE slice of the literature, whose keys keep their stale rotations. For
    /// experiments only: attention then mixes keys rotated for other positions.
    @discardableResult
    public func relabelWithoutRotation(sequence: Int, range: Range<Int>, by delta: Int) throws -> Int {
        let moved = try prepareMove(sequence: sequence, range: range, delta: delta)
        cells.move(moved, to: moved.map { cells.positions[$0] + Int32(delta) })
        return moved.count
    }

    private func prepareMove(sequence: Int, range: Range<Int>, delta: Int) throws -> [Int] {
        try validate(sequence: sequence)
        try validate(range: range)
        guard rotary.scaling.composes else { throw CacheError.rotationDoesNotCompose(String(describing: rotary.scaling)) }
        let moved = cells(of: sequence, in: range)
        guard !moved.isEmpty else {
            throw CacheError.emptyRange(sequence: sequence, lower: range.lowerBound, upper: range.upperBound)
        }
        let movedSet = Set(moved)
        for c in moved {
            let (target, overflow) = Int(cells.positions[c]).addingReportingOverflow(delta)
            guard !overflow, target >= 0, target < positionLimit else {
                throw CacheError.positionOutOfRange(overflow ? Int.max : target, limit: positionLimit)
            }
            if let other = cells.cell(sequence: Int32(sequence), position: Int32(target)), !movedSet.contains(other) {
                throw CacheError.positionOccupied(sequence: sequence, position: target)
            }
        }
        return moved
    }

    /// Applies the rotation pass for cells `run` that just moved by `delta`.
    private func rotateRun(_ run: Range<Int>, delta: Int) {
        let width = geometry.keyWidth
        switch storage {
        case .pre:
            updateCellTables(first: run.lowerBound, count: run.count)
        case .post:
            let angles = table(for: [delta])
            for layer in 0..<geometry.layers {
                rotary.rotate(tensors.keys[layer].pointer + run.lowerBound * width, rows: run.count, heads: geometry.kvHeads,
                              rowStride: width, cos: angles.cos, sin: angles.sin, sameAngles: true, layer: layer)
            }
        case .anchored:
            let angles = table(for: run.map { Int(cells.positions[$0]) })
            for layer in 0..<geometry.layers {
                let live = tensors.keys[layer].pointer + run.lowerBound * width
                live.update(from: tensors.canonicalKeys[layer].pointer + run.lowerBound * width, count: run.count * width)
                rotary.rotate(live, rows: run.count, heads: geometry.kvHeads, rowStride: width, cos: angles.cos, sin: angles.sin,
                              layer: layer)
            }
        }
    }

    /// Copies the cells of `source` in `range` to `target` (same positions) in new cells.
    /// - Returns: the number of cells copied.
    @discardableResult
    public func copy(from source: Int, to target: Int, range: Range<Int>? = nil) throws -> Int {
        try validate(sequence: source)
        try validate(sequence: target)
        if let range { try validate(range: range) }
        guard source != target else { return 0 }
        for c in cells(of: source, in: range) where cells.cell(sequence: Int32(target), position: cells.positions[c]) != nil {
            throw CacheError.positionOccupied(sequence: target, position: Int(cells.positions[c]))
        }
        let count = cells(of: source, in: range).count
        try ensureRoom(count)
        for c in cells(of: source, in: range) {
            let cell = cells.append(sequence: Int32(target), position: cells.positions[c])
            tensors.copyCell(c, to: cell)
        }
        return count
    }

    /// Splits sorted cell indices into runs of consecutive cells.
    static func contiguousRuns(_ cells: [Int]) -> [Range<Int>] {
        var runs: [Range<Int>] = []
        var start = cells.first ?? 0
        var previous = start - 1
        for c in cells {
            if c != previous + 1 {
                runs.append(start..<(previous + 1))
                start = c
            }
            previous = c
        }
        if let last = cells.last { runs.append(start..<(last + 1)) }
        return runs.filter { !$0.isEmpty }
    }
}
