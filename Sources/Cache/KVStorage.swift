import Kernels
#if canImport(Glibc)
import Glibc
#endif

/// The tensors behind the cells: per layer keys `[allocated, kvHeads, dk]` and values `[allocated, kvHeads, dv]`,
/// canonical keys (`.anchored`) and per-cell cos/sin tables `[allocated, tableWidth]` (`.pre`; `d/2`, or
/// one entry per layer and KV head for a pruned model's RoPE).
///
/// Memory follows use: buffers start empty, grow in whole blocks of `blockCells` (at least doubling, so
/// appends are amortised O(1)) up to the cache's limit, and shrink when compaction leaves them mostly
/// empty. Storage stays contiguous per layer, so attention streams over one array at post-RoPE speed.
/// Internal to the module: no pointer to it leaves `Cache`.
final class KVStorage {
    static let blockCells = 256

    let geometry: CacheGeometry
    let mode: KeyStorage
    /// Floats of one cell's angle table row (`RotaryEmbedding.tableWidth`).
    let tableWidth: Int
    /// Cells the buffers hold room for.
    private(set) var allocated = 0
    private(set) var keys: [FloatBuffer]
    private(set) var canonicalKeys: [FloatBuffer]
    private(set) var values: [FloatBuffer]
    private(set) var cellCos = FloatBuffer(count: 0)
    private(set) var cellSin = FloatBuffer(count: 0)

    init(geometry: CacheGeometry, mode: KeyStorage, tableWidth: Int) {
        self.geometry = geometry
        self.mode = mode
        self.tableWidth = tableWidth
        keys = (0..<geometry.layers).map { _ in FloatBuffer(count: 0) }
        values = keys.map { _ in FloatBuffer(count: 0) }
        canonicalKeys = mode == .anchored ? keys.map { _ in FloatBuffer(count: 0) } : []
    }

    /// Bytes allocated for tensors.
    var byteCount: Int {
        ((keys.count + canonicalKeys.count) * geometry.keyWidth + values.count * geometry.valueWidth) * allocated * MemoryLayout<Float>.stride
            + cellCos.byteCount + cellSin.byteCount
    }

    /// Makes room for `cells` cells, keeping the first `keeping` cells' contents. `cells <= geometry.capacity`.
    func reserve(cells: Int, keeping: Int) {
        guard cells > allocated else { return }
        let block = Self.blockCells
        let grown = max(cells, allocated * 2)
        resize(to: min(geometry.capacity, (grown + block - 1) / block * block), keeping: keeping)
    }

    /// Releases memory when `used` cells fill less than a quarter of the buffers.
    func shrink(toFit used: Int) {
        if used == 0 {
            if allocated > 0 { resize(to: 0, keeping: 0) }
            return
        }
        let block = Self.blockCells
        let target = max(block, (2 * used + block - 1) / block * block)
        if used < allocated / 4, target < allocated { resize(to: target, keeping: used) }
    }

    private func resize(to cells: Int, keeping: Int) {
        let half = tableWidth
        let kept = min(keeping, cells, allocated)
        func moved(_ buffer: FloatBuffer, width: Int) -> FloatBuffer {
            let next = FloatBuffer(count: cells * width)
            next.pointer.update(from: buffer.pointer, count: kept * width)
            return next
        }
        keys = keys.map { moved($0, width: geometry.keyWidth) }
        values = values.map { moved($0, width: geometry.valueWidth) }
        canonicalKeys = canonicalKeys.map { moved($0, width: geometry.keyWidth) }
        if mode == .pre {
            cellCos = moved(cellCos, width: half)
            cellSin = moved(cellSin, width: half)
        }
        allocated = cells
    }

    /// Copies every tensor row of cell `source` into cell `target`.
    func copyCell(_ source: Int, to target: Int) { moveCells(source..<(source + 1), to: target) }

    /// Copies the cells `source` to start at `target` (the ranges may overlap): one `memmove` per buffer, so that
    /// compaction moves a run of cells at once.
    func moveCells(_ source: Range<Int>, to target: Int) {
        guard target != source.lowerBound, !source.isEmpty else { return }
        func move(_ buffer: FloatBuffer, width: Int) {
            memmove(buffer.pointer + target * width, buffer.pointer + source.lowerBound * width,
                    source.count * width * MemoryLayout<Float>.stride)
        }
        for buffer in keys { move(buffer, width: geometry.keyWidth) }
        for buffer in canonicalKeys { move(buffer, width: geometry.keyWidth) }
        for buffer in values { move(buffer, width: geometry.valueWidth) }
        if mode == .pre {
            move(cellCos, width: tableWidth)
            move(cellSin, width: tableWidth)
        }
    }
}
