import Kernels

/// A KV cache of cells. Each cell holds one token's K and V for every layer; its metadata (position,
/// owning sequence) lives apart from the tensors, as in llama.cpp, so that moving a token to another
/// position is a metadata change plus one rotation of its key, never a recomputation.
///
/// Storage per layer: keys and values `[capacity, kvHeads, headDimension]`. Cells `[0, used)` may be
/// occupied; a free cell has sequence -1 and is masked out of attention until `compact()` reclaims it.
/// Keys are stored rotated to their cell's position (post-RoPE), so attention reads them as they are.
public final class KVCache {
    public let geometry: CacheGeometry
    /// The rotation that turns canonical keys into keys at a position.
    public let rotary: RotaryEmbedding
    /// Per layer `[capacity, kvHeads, d]`, rotated to the cell's position.
    public private(set) var keys: [FloatBuffer]
    /// Per layer `[capacity, kvHeads, d]`.
    public private(set) var values: [FloatBuffer]
    /// `[capacity]` position of each cell.
    public private(set) var positions: [Int32]
    /// `[capacity]` owning sequence of each cell, -1 when free.
    public private(set) var sequences: [Int32]
    /// Cells at or beyond this index have never been used since the last compaction.
    public private(set) var used = 0

    private var cosTable = Scratch()
    private var sinTable = Scratch()

    public init(geometry: CacheGeometry, rotary: RotaryEmbedding) {
        self.geometry = geometry
        self.rotary = rotary
        let floats = geometry.capacity * geometry.cellWidth
        keys = (0..<geometry.layers).map { _ in FloatBuffer(count: floats) }
        values = (0..<geometry.layers).map { _ in FloatBuffer(count: floats) }
        positions = Array(repeating: 0, count: max(geometry.capacity, 1))
        sequences = Array(repeating: -1, count: max(geometry.capacity, 1))
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
        guard sequence >= 0, sequence < Int(Int32.max) else { throw CacheError.invalidSequence(sequence) }
        for p in newPositions where p < 0 || p >= Int(Int32.max) {
            throw CacheError.positionOutOfRange(p, limit: Int(Int32.max))
        }
        if used + newPositions.count > geometry.capacity { compact() }
        guard used + newPositions.count <= geometry.capacity else {
            throw CacheError.full(requested: newPositions.count, capacity: geometry.capacity, used: occupied)
        }
        let first = used
        for (i, p) in newPositions.enumerated() {
            positions[first + i] = Int32(p)
            sequences[first + i] = Int32(sequence)
        }
        used += newPositions.count
        return first
    }

    /// Writes one layer's K and V for cells `[first, first + count)`; `canonicalKeys` are unrotated and are
    /// rotated here to each cell's position by `table`, whose row `r` holds the angles of cell `first + r`.
    /// - canonicalKeys, newValues: `[count, kvHeads, d]` with row stride `rowStride` floats.
    public func write(layer: Int, first: Int, count: Int, canonicalKeys: UnsafePointer<Float>,
                      newValues: UnsafePointer<Float>, rowStride: Int, table: RotationTable) {
        let width = geometry.cellWidth
        let k = keys[layer].pointer + first * width
        let v = values[layer].pointer + first * width
        for row in 0..<count {
            (k + row * width).update(from: canonicalKeys + row * rowStride, count: width)
            (v + row * width).update(from: newValues + row * rowStride, count: width)
        }
        rotary.rotate(k, rows: count, heads: geometry.kvHeads, rowStride: width, cos: table.cos, sin: table.sin)
    }

    /// Frees every cell of `sequence` whose position lies in `range` (all of them when nil).
    public func remove(sequence: Int, range: Range<Int>? = nil) {
        for c in 0..<used where sequences[c] == Int32(sequence) {
            if let range, !range.contains(Int(positions[c])) { continue }
            sequences[c] = -1
        }
        while used > 0 && sequences[used - 1] < 0 { used -= 1 }
    }

    /// Frees every cell.
    public func clear() {
        for c in 0..<used { sequences[c] = -1 }
        used = 0
    }

    /// Moves occupied cells down over free ones, keeping their order, so the tail is free.
    public func compact() {
        let width = geometry.cellWidth
        var target = 0
        for c in 0..<used where sequences[c] >= 0 {
            if c != target {
                for layer in 0..<geometry.layers {
                    (keys[layer].pointer + target * width).update(from: keys[layer].pointer + c * width, count: width)
                    (values[layer].pointer + target * width).update(from: values[layer].pointer + c * width, count: width)
                }
                positions[target] = positions[c]
                sequences[target] = sequences[c]
            }
            target += 1
        }
        for c in target..<used { sequences[c] = -1 }
        used = target
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

    /// Rotates `rows` cached key rows in place, row `r` by angle `positions[r]` (a position or a delta).
    func rotate(_ k: UnsafeMutablePointer<Float>, rows: Int, positions rowPositions: [Int]) {
        guard rows > 0 else { return }
        let half = geometry.headDimension / 2
        let cos = cosTable.reserve(rows * half)
        let sin = sinTable.reserve(rows * half)
        rowPositions.withUnsafeBufferPointer { rotary.table(positions: $0, cos: cos, sin: sin) }
        rotary.rotate(k, rows: rows, heads: geometry.kvHeads, rowStride: geometry.cellWidth, cos: cos, sin: sin)
    }
}
