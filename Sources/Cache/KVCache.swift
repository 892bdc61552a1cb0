import Kernels

/// A KV cache of cells. Each cell holds one token's K and V for every layer; its metadata (position,
/// owning sequence) lives apart from the tensors (`KVCells`), as in llama.cpp, so that moving a token to
/// another position is a metadata change plus one rotation of its key, never a recomputation.
///
/// The tensors (`KVStorage`) grow with the cells in use, up to `geometry.capacity` cells, and shrink when
/// they are freed: a cache for a 131072-token window costs what its tokens cost. Keys are stored per
/// `storage` (post-RoPE, pre-RoPE, or anchored: rotated plus canonical). Callers address tokens by
/// (sequence, position); cell indices are handed to the model only for the duration of one forward pass,
/// and no pointer to the storage leaves this module. Every throwing operation checks everything before
/// changing anything.
public final class KVCache {
    public let geometry: CacheGeometry
    public let storage: KeyStorage
    /// The rotation that turns canonical keys into keys at a position.
    public let rotary: RotaryEmbedding
    /// Positions must lie in `[0, positionLimit)`.
    public let positionLimit: Int

    var cells = KVCells()
    let tensors: KVStorage
    var cosTable = Scratch()
    var sinTable = Scratch()
    var scores = Scratch()
    var rotatedKeys = Scratch()

    /// - geometry: layers, heads and head size; `capacity` is the most cells the cache may hold (the
    ///   context), not what it allocates.
    /// - rotary: rotates `geometry.keyDimension`-wide keys (a programmer error otherwise).
    public init(geometry: CacheGeometry, rotary: RotaryEmbedding, storage: KeyStorage = .anchored) {
        precondition(rotary.headDimension == geometry.keyDimension, "KVCache: the RoPE's width is not the key width")
        self.geometry = geometry
        self.rotary = rotary
        self.storage = storage
        positionLimit = rotary.scaling.positionLimit
        tensors = KVStorage(geometry: geometry, mode: storage, tableWidth: rotary.tableWidth)
    }

    /// Bytes of tensor storage allocated now (K, V, canonical K, angle tables): grows and shrinks with use.
    public var byteCount: Int { tensors.byteCount }

    /// Cells handed out since the last compaction (occupied or freed).
    var used: Int { cells.used }

    /// Number of cells owned by `sequence`.
    public func count(sequence: Int) -> Int { cells.count(sequence: Int32(clamping: sequence)) }

    /// Cells in use by any sequence.
    public var occupied: Int { cells.occupied }

    /// Highest position held by `sequence`, or nil when it holds none.
    public func maxPosition(sequence: Int) -> Int? { cells.positions(of: Int32(clamping: sequence)).last.map(Int.init) }

    /// The positions `sequence` holds, ascending.
    public func positions(of sequence: Int) -> [Int] { cells.positions(of: Int32(clamping: sequence)).map(Int.init) }

    /// Claims one cell per position for `sequence` and returns them, in order. A position the sequence
    /// already holds keeps its cell (the next write overwrites its K/V: selective recompute relies on
    /// this); other positions get new cells. Throws (changing nothing) on an invalid sequence or
    /// position, a position given twice, or a full cache.
    public func reserve(sequence: Int, positions newPositions: [Int]) throws -> [Int] {
        try reserve([(sequence: sequence, positions: newPositions)])[0]
    }

    /// `reserve(sequence:positions:)` for several distinct sequences at once (one batched forward pass):
    /// everything is checked, room for all the new cells included, before any cell is claimed, so a
    /// throwing call changes nothing. Returns each request's cells, in order.
    public func reserve(_ requests: [(sequence: Int, positions: [Int])]) throws -> [[Int]] {
        var fresh = 0
        var sequences = Set<Int>()
        for request in requests {
            try validate(sequence: request.sequence)
            guard sequences.insert(request.sequence).inserted else { throw CacheError.duplicateSequence(request.sequence) }
            let id = Int32(request.sequence)
            var seen = Set<Int>()
            for p in request.positions {
                guard p >= 0, p < positionLimit else { throw CacheError.positionOutOfRange(p, limit: positionLimit) }
                guard seen.insert(p).inserted else { throw CacheError.duplicatePosition(p) }
                if cells.cell(sequence: id, position: Int32(p)) == nil { fresh += 1 }
            }
        }
        try ensureRoom(fresh)
        var appended: [Int] = []
        let result = requests.map { request in
            let id = Int32(request.sequence)
            return request.positions.map { p in
                if let cell = cells.cell(sequence: id, position: Int32(p)) { return cell }
                let cell = cells.append(sequence: id, position: Int32(p))
                appended.append(cell)
                return cell
            }
        }
        for run in Self.contiguousRuns(appended) { updateCellTables(first: run.lowerBound, count: run.count) }
        return result
    }

    func validate(sequence: Int) throws {
        guard sequence >= 0, sequence < Int(Int32.max) else { throw CacheError.invalidSequence(sequence) }
    }

    /// Makes room for `count` more cells at the tail, compacting if needed; throws when they do not exist.
    func ensureRoom(_ count: Int) throws {
        if used + count > geometry.capacity { compact() }
        guard count <= geometry.capacity - used else {
            throw CacheError.full(requested: count, capacity: geometry.capacity, used: occupied)
        }
        tensors.reserve(cells: used + count, keeping: used)
    }

    /// Writes one layer's K and V for cells `[first, first + count)` (from `reserve`) from canonical
    /// (unrotated) keys; `table` row `r` (`rotary.tableWidth` floats, all layers) holds the angles of cell
    /// `first + r`'s position.
    /// - canonicalKeys: `[count, kvHeads, dk]` and newValues: `[count, kvHeads, dv]`, rows `rowStride` floats
    ///   apart (values: `valueStride` when given).
    public func write(layer: Int, first: Int, count: Int, canonicalKeys source: UnsafePointer<Float>,
                      newValues: UnsafePointer<Float>, rowStride: Int, valueStride: Int? = nil, table: RotationTable) {
        // Programmer errors, not input: cells come from `reserve` in the same forward pass.
        precondition(layer >= 0 && layer < geometry.layers && first >= 0 && count >= 0 && first + count <= used,
                     "KVCache.write outside the reserved cells")
        let width = geometry.keyWidth
        let valueWidth = geometry.valueWidth
        let k = tensors.keys[layer].pointer + first * width
        let v = tensors.values[layer].pointer + first * valueWidth
        for row in 0..<count {
            (k + row * width).update(from: source + row * rowStride, count: width)
            (v + row * valueWidth).update(from: newValues + row * (valueStride ?? rowStride), count: valueWidth)
        }
        if storage == .anchored {
            (tensors.canonicalKeys[layer].pointer + first * width).update(from: k, count: count * width)
        }
        if storage != .pre {
            rotary.rotate(k, rows: count, heads: geometry.kvHeads, rowStride: width, cos: table.cos, sin: table.sin, layer: layer)
        }
    }

    /// Frees every cell.
    public func clear() {
        cells.removeAll()
        tensors.shrink(toFit: 0)
    }

    /// Moves occupied cells down over free ones, keeping their order, so the tail is free, and releases
    /// memory the cells no longer need.
    public func compact() {
        // Runs of live cells move down in one piece each (cells keep their order).
        var target = 0
        var c = 0
        while c < used {
            if cells.isFree(c) { c += 1; continue }
            var end = c + 1
            while end < used, !cells.isFree(end) { end += 1 }
            if c != target {
                tensors.moveCells(c..<end, to: target)
                for (offset, cell) in (c..<end).enumerated() { cells.relocate(cell, to: target + offset) }
            }
            target += end - c
            c = end
        }
        cells.trimFreeTail()
        tensors.shrink(toFit: used)
    }

    /// Recomputes the `.pre` cos/sin table rows of cells `[first, first + count)` from their positions.
    func updateCellTables(first: Int, count: Int) {
        guard storage == .pre, count > 0 else { return }
        let half = rotary.tableWidth
        let cellPositions = (first..<(first + count)).map { Int(cells.positions[$0]) }
        cellPositions.withUnsafeBufferPointer {
            rotary.table(positions: $0, cos: tensors.cellCos.pointer + first * half, sin: tensors.cellSin.pointer + first * half)
        }
    }

    /// Fills the scratch tables with angles for `rowPositions` and returns them.
    func table(for rowPositions: [Int]) -> RotationTable {
        let half = rotary.tableWidth
        let cos = cosTable.reserve(max(rowPositions.count, 1) * half)
        let sin = sinTable.reserve(max(rowPositions.count, 1) * half)
        rowPositions.withUnsafeBufferPointer { rotary.table(positions: $0, cos: cos, sin: sin) }
        return RotationTable(rows: rowPositions.count, cos: cos, sin: sin, rowStride: half)
    }
}
