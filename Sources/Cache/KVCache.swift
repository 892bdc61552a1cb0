import Kernels

/// A KV cache of cells. Each cell holds one token's K and V for every layer; its metadata (position,
/// owning sequence) lives apart from the tensors, as in llama.cpp, so that moving a token to another
/// position is a metadata change plus one rotation of its key, never a recomputation.
///
/// Storage per layer: keys and values `[capacity, kvHeads, d]`; with `.anchored` also the canonical
/// (unrotated) keys; with `.pre` a per-cell cos/sin table `[capacity, d/2]` used inside attention.
/// Cells `[0, used)` may be occupied; a free cell has sequence -1 and is masked out of attention until
/// `compact()` reclaims it. Every throwing operation checks everything before changing anything.
public final class KVCache {
    public let geometry: CacheGeometry
    public let storage: KeyStorage
    /// The rotation that turns canonical keys into keys at a position.
    public let rotary: RotaryEmbedding
    /// Positions must lie in `[0, positionLimit)`.
    public let positionLimit: Int
    /// Per layer `[capacity, kvHeads, d]`: rotated to the cell's position (`.post`, `.anchored`) or
    /// canonical (`.pre`).
    public internal(set) var keys: [FloatBuffer]
    /// Per layer `[capacity, kvHeads, d]` canonical keys (`.anchored` only).
    public internal(set) var canonicalKeys: [FloatBuffer]
    /// Per layer `[capacity, kvHeads, d]`.
    public internal(set) var values: [FloatBuffer]
    /// `[capacity, d/2]` cos and sin of each cell's angles (`.pre` only): the rotation attention applies.
    public internal(set) var cellCos: FloatBuffer
    public internal(set) var cellSin: FloatBuffer
    /// `[capacity]` position of each cell.
    public internal(set) var positions: [Int32]
    /// `[capacity]` owning sequence of each cell, -1 when free.
    public internal(set) var sequences: [Int32]
    /// Cells at or beyond this index have never been used since the last compaction.
    public internal(set) var used = 0

    var cosTable = Scratch()
    var sinTable = Scratch()

    public init(geometry: CacheGeometry, rotary: RotaryEmbedding, storage: KeyStorage = .anchored) {
        self.geometry = geometry
        self.rotary = rotary
        self.storage = storage
        positionLimit = rotary.scaling.positionLimit
        let floats = geometry.capacity * geometry.cellWidth
        keys = (0..<geometry.layers).map { _ in FloatBuffer(count: floats) }
        values = (0..<geometry.layers).map { _ in FloatBuffer(count: floats) }
        canonicalKeys = storage == .anchored ? (0..<geometry.layers).map { _ in FloatBuffer(count: floats) } : []
        let tableFloats = storage == .pre ? geometry.capacity * geometry.headDimension / 2 : 0
        cellCos = FloatBuffer(count: tableFloats)
        cellSin = FloatBuffer(count: tableFloats)
        positions = Array(repeating: 0, count: max(geometry.capacity, 1))
        sequences = Array(repeating: -1, count: max(geometry.capacity, 1))
    }

    /// Bytes of tensor storage this cache holds (K, V, canonical K, tables).
    public var byteCount: Int {
        (keys.count + values.count + canonicalKeys.count) * geometry.capacity * geometry.cellWidth * 4 + 2 * cellCos.byteCount
    }

    /// Number of cells owned by `sequence`.
    public func count(sequence: Int) -> Int {
        var total = 0
        for c in 0..<used where sequences[c] == Int32(sequence) { total += 1 }
        return total
    }

    /// Highest position held by `sequence`, or nil when it holds none.
    public func maxPosition(sequence: Int) -> Int? {
        var highest: Int32? = nil
        for c in 0..<used where sequences[c] == Int32(sequence) { highest = max(highest ?? .min, positions[c]) }
        return highest.map(Int.init)
    }

    /// Cells in use by any sequence.
    public var occupied: Int { (0..<used).reduce(0) { $0 + (sequences[$1] >= 0 ? 1 : 0) } }

    /// Claims `positions.count` consecutive cells for `sequence` at `positions` and returns the first cell.
    /// Compacts first when the tail has no room. Throws (changing nothing) when the cache is full.
    public func reserve(sequence: Int, positions newPositions: [Int]) throws -> Int {
        try validate(sequence: sequence)
        for p in newPositions where p < 0 || p >= positionLimit { throw CacheError.positionOutOfRange(p, limit: positionLimit) }
        try ensureRoom(newPositions.count)
        let first = used
        for (i, p) in newPositions.enumerated() {
            positions[first + i] = Int32(p)
            sequences[first + i] = Int32(sequence)
        }
        used += newPositions.count
        updateCellTables(first: first, count: newPositions.count)
        return first
    }

    func validate(sequence: Int) throws {
        guard sequence >= 0, sequence < Int(Int32.max) else { throw CacheError.invalidSequence(sequence) }
    }

    /// Makes `count` cells free at the tail, compacting if needed; throws when they do not exist.
    func ensureRoom(_ count: Int) throws {
        if used + count > geometry.capacity { compact() }
        guard used + count <= geometry.capacity else {
            throw CacheError.full(requested: count, capacity: geometry.capacity, used: occupied)
        }
    }

    /// Writes one layer's K and V for cells `[first, first + count)` from canonical (unrotated) keys;
    /// `table` row `r` holds the angles of cell `first + r`'s position.
    /// - canonicalKeys, newValues: `[count, kvHeads, d]` with row stride `rowStride` floats.
    public func write(layer: Int, first: Int, count: Int, canonicalKeys source: UnsafePointer<Float>,
                      newValues: UnsafePointer<Float>, rowStride: Int, table: RotationTable) {
        let width = geometry.cellWidth
        let k = keys[layer].pointer + first * width
        let v = values[layer].pointer + first * width
        for row in 0..<count {
            (k + row * width).update(from: source + row * rowStride, count: width)
            (v + row * width).update(from: newValues + row * rowStride, count: width)
        }
        if storage == .anchored {
            (canonicalKeys[layer].pointer + first * width).update(from: k, count: count * width)
        }
        if storage != .pre {
            rotary.rotate(k, rows: count, heads: geometry.kvHeads, rowStride: width, cos: table.cos, sin: table.sin)
        }
    }

    /// The per-cell rotation attention must apply to `keys` (`.pre`), or nil when keys are stored rotated.
    public var attentionRotation: RotationTable? {
        storage == .pre ? RotationTable(rows: used, cos: cellCos.pointer, sin: cellSin.pointer) : nil
    }

    /// Frees every cell.
    public func clear() {
        for c in 0..<used { sequences[c] = -1 }
        used = 0
    }

    /// Moves occupied cells down over free ones, keeping their order, so the tail is free.
    public func compact() {
        var target = 0
        for c in 0..<used where sequences[c] >= 0 {
            if c != target { copyCell(c, to: target) }
            target += 1
        }
        for c in target..<used { sequences[c] = -1 }
        used = target
    }

    /// Copies everything cell `source` holds (tensors of every layer, angles, metadata) into cell `target`.
    func copyCell(_ source: Int, to target: Int) {
        let width = geometry.cellWidth
        let half = geometry.headDimension / 2
        for buffer in keys + values + canonicalKeys {
            (buffer.pointer + target * width).update(from: buffer.pointer + source * width, count: width)
        }
        if storage == .pre {
            (cellCos.pointer + target * half).update(from: cellCos.pointer + source * half, count: half)
            (cellSin.pointer + target * half).update(from: cellSin.pointer + source * half, count: half)
        }
        positions[target] = positions[source]
        sequences[target] = sequences[source]
    }

    /// Runs `body` with the metadata pointers attention needs: `(positions, sequences)`, each `[used]`.
    /// Do not escape the pointers.
    public func withMetadata<R>(_ body: (UnsafePointer<Int32>, UnsafePointer<Int32>) throws -> R) rethrows -> R {
        try positions.withUnsafeBufferPointer { p in
            try sequences.withUnsafeBufferPointer { s in
                // safe: both arrays hold max(capacity, 1) elements, so their base addresses exist.
                try body(p.baseAddress!, s.baseAddress!)
            }
        }
    }

    /// Recomputes the `.pre` cos/sin table rows of cells `[first, first + count)` from their positions.
    func updateCellTables(first: Int, count: Int) {
        guard storage == .pre, count > 0 else { return }
        let half = geometry.headDimension / 2
        let cellPositions = (first..<(first + count)).map { Int(positions[$0]) }
        cellPositions.withUnsafeBufferPointer {
            rotary.table(positions: $0, cos: cellCos.pointer + first * half, sin: cellSin.pointer + first * half)
        }
    }

    /// Fills the scratch tables with angles for `rowPositions` and returns them.
    func table(for rowPositions: [Int]) -> RotationTable {
        let half = geometry.headDimension / 2
        let cos = cosTable.reserve(max(rowPositions.count, 1) * half)
        let sin = sinTable.reserve(max(rowPositions.count, 1) * half)
        rowPositions.withUnsafeBufferPointer { rotary.table(positions: $0, cos: cos, sin: sin) }
        return RotationTable(rows: rowPositions.count, cos: cos, sin: sin)
    }
}
