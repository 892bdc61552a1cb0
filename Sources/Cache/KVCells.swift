/// Cell metadata apart from the tensors, as llama.cpp's `llama_kv_cells`: the position and owning sequence
/// of each cell, and per sequence an index from position to cell, so that a sequence holds at most one
/// cell per position and a position is found without a scan.
///
/// Cells `[0, used)` have been handed out since the last compaction; a freed cell has sequence -1 until
/// `compact` reclaims it. The arrays grow with `used`, never with the cache's limit.
struct KVCells {
    /// `[used]` position of each cell.
    private(set) var positions: [Int32] = []
    /// `[used]` owning sequence of each cell, -1 when free.
    private(set) var sequences: [Int32] = []
    /// sequence -> position -> cell.
    private var index: [Int32: [Int32: Int]] = [:]

    var used: Int { positions.count }

    /// Cells owned by any sequence.
    var occupied: Int { index.values.reduce(0) { $0 + $1.count } }

    func count(sequence: Int32) -> Int { index[sequence]?.count ?? 0 }

    func cell(sequence: Int32, position: Int32) -> Int? { index[sequence]?[position] }

    func isFree(_ cell: Int) -> Bool { sequences[cell] < 0 }

    /// The sequence's positions, ascending.
    func positions(of sequence: Int32) -> [Int32] { (index[sequence]?.keys).map { $0.sorted() } ?? [] }

    /// The sequence's cells whose position lies in `range` (all of them when nil), ordered by position.
    func cells(of sequence: Int32, in range: Range<Int>? = nil) -> [Int] {
        guard let byPosition = index[sequence] else { return [] }
        return byPosition.filter { range?.contains(Int($0.key)) ?? true }.sorted { $0.key < $1.key }.map(\.value)
    }

    /// Sequences that hold at least one cell.
    var sequenceIDs: [Int32] { index.keys.sorted() }

    /// Appends a cell for `sequence` at `position` and returns it. The position must be free in the sequence.
    mutating func append(sequence: Int32, position: Int32) -> Int {
        let cell = positions.count
        positions.append(position)
        sequences.append(sequence)
        index[sequence, default: [:]][position] = cell
        return cell
    }

    /// Frees `cell`, then drops free cells from the tail.
    mutating func free(_ cell: Int) {
        let sequence = sequences[cell]
        guard sequence >= 0 else { return }
        index[sequence]?[positions[cell]] = nil
        if index[sequence]?.isEmpty == true { index[sequence] = nil }
        sequences[cell] = -1
        trimFreeTail()
    }

    mutating func trimFreeTail() {
        while let last = sequences.last, last < 0 {
            sequences.removeLast()
            positions.removeLast()
        }
    }

    /// Gives the cells new positions at once (a range moving within its sequence). The caller has checked
    /// that no target position is held by a cell outside `cells`.
    mutating func move(_ cells: [Int], to newPositions: [Int32]) {
        for cell in cells { index[sequences[cell]]?[positions[cell]] = nil }
        for (cell, position) in zip(cells, newPositions) {
            positions[cell] = position
            index[sequences[cell], default: [:]][position] = cell
        }
    }

    /// Moves the metadata of `source` into `target` (compaction: `target` is free and below `source`).
    mutating func relocate(_ source: Int, to target: Int) {
        positions[target] = positions[source]
        sequences[target] = sequences[source]
        index[sequences[source]]?[positions[source]] = target
        sequences[source] = -1
    }

    mutating func removeAll() {
        positions.removeAll()
        sequences.removeAll()
        index.removeAll()
    }

    /// Runs `body` with `(positions, sequences)`, each `[used]`, for the attention mask. Do not escape them.
    /// The cells from the first to the last that `sequence` holds (others' cells may lie between), or nil.
    func span(of sequence: Int32) -> Range<Int>? {
        guard let first = sequences.firstIndex(of: sequence), let last = sequences.lastIndex(of: sequence) else { return nil }
        return first..<(last + 1)
    }

    func withUnsafeMetadata<R>(_ body: (UnsafePointer<Int32>, UnsafePointer<Int32>) throws -> R) rethrows -> R {
        try positions.withUnsafeBufferPointer { p in
            try sequences.withUnsafeBufferPointer { s in
                // The mask reads [used] elements; an empty array still needs a valid address, so use a dummy.
                var dummy: Int32 = -1
                if let pBase = p.baseAddress, let sBase = s.baseAddress { return try body(pBase, sBase) }
                return try withUnsafePointer(to: &dummy) { try body($0, $0) }
            }
        }
    }
}
