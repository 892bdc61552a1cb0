import Kernels

/// A range of one sequence's cache taken out of the cache: canonical (unrotated) keys and values of every
/// layer, with positions relative to the first, so it can be placed at any position of any sequence.
/// A value type: it may cross isolation boundaries and be stored (the document library keeps these).
public struct CacheSlice: Sendable, Equatable {
    public let geometry: CacheGeometry
    /// `[count]` positions relative to the slice's first position (0 for the first cell).
    public let relativePositions: [Int]
    /// Per layer `[count, kvHeads, dk]` canonical keys.
    public let keys: [[Float]]
    /// Per layer `[count, kvHeads, dv]` values.
    public let values: [[Float]]

    public init(geometry: CacheGeometry, relativePositions: [Int], keys: [[Float]], values: [[Float]]) {
        self.geometry = geometry
        self.relativePositions = relativePositions
        self.keys = keys
        self.values = values
    }

    public var count: Int { relativePositions.count }

    /// Bytes of K and V held.
    public var byteCount: Int { count * geometry.bytesPerToken }
}

extension KVCache {
    /// Takes the cells of `sequence` in `range` out as canonical keys and values. `.pre` and `.anchored`
    /// hold canonical keys exactly; `.post` recovers them by rotating back by each position (exact up to
    /// float rounding).
    public func export(sequence: Int, range: Range<Int>) throws -> CacheSlice {
        try validate(sequence: sequence)
        try validate(range: range)
        let selected = cells(of: sequence, in: range)
        guard let first = selected.first else {
            throw CacheError.emptyRange(sequence: sequence, lower: range.lowerBound, upper: range.upperBound)
        }
        let base = Int(cells.positions[first])
        let width = geometry.keyWidth
        let valueWidth = geometry.valueWidth
        let inverse = storage == .post ? table(for: selected.map { -Int(cells.positions[$0]) }) : nil
        var sliceKeys: [[Float]] = []
        var sliceValues: [[Float]] = []
        for layer in 0..<geometry.layers {
            let source = storage == .anchored ? tensors.canonicalKeys[layer] : tensors.keys[layer]
            var k = [Float](repeating: 0, count: selected.count * width)
            var v = [Float](repeating: 0, count: selected.count * valueWidth)
            k.withUnsafeMutableBufferPointer { kBuffer in
                v.withUnsafeMutableBufferPointer { vBuffer in
                    // safe: both buffers hold selected.count * width > 0 floats (widths are positive).
                    let kOut = kBuffer.baseAddress!, vOut = vBuffer.baseAddress!
                    for (row, c) in selected.enumerated() {
                        (kOut + row * width).update(from: source.pointer + c * width, count: width)
                        (vOut + row * valueWidth).update(from: tensors.values[layer].pointer + c * valueWidth, count: valueWidth)
                    }
                    if let inverse {
                        rotary.rotate(kOut, rows: selected.count, heads: geometry.kvHeads, rowStride: width,
                                      cos: inverse.cos, sin: inverse.sin, layer: layer)
                    }
                }
            }
            sliceKeys.append(k)
            sliceValues.append(v)
        }
        let sliceGeometry = geometry.with(capacity: selected.count)
        return CacheSlice(geometry: sliceGeometry, relativePositions: selected.map { Int(cells.positions[$0]) - base },
                          keys: sliceKeys, values: sliceValues)
    }

    /// Places `slice` into `sequence` starting at position `start` (re-anchoring its keys there).
    /// - Returns: the positions it occupies.
    @discardableResult
    public func importSlice(_ slice: CacheSlice, sequence: Int, at start: Int) throws -> [Int] {
        guard slice.geometry.with(capacity: geometry.capacity) == geometry else {
            let (s, c) = (slice.geometry, geometry)
            throw CacheError.sliceMismatch("slice has \(s.layers) layers × \(s.kvHeads) heads × \(s.headDimension) (keys \(s.keyDimension), values \(s.valueDimension)), cache \(c.layers) × \(c.kvHeads) × \(c.headDimension) (keys \(c.keyDimension), values \(c.valueDimension))")
        }
        let width = geometry.keyWidth
        let valueWidth = geometry.valueWidth
        guard slice.keys.count == geometry.layers, slice.values.count == geometry.layers,
              slice.keys.allSatisfy({ $0.count == slice.count * width }),
              slice.values.allSatisfy({ $0.count == slice.count * valueWidth }) else {
            throw CacheError.sliceMismatch("tensor sizes do not match \(slice.count) cells")
        }
        guard slice.count > 0 else { throw CacheError.sliceMismatch("slice holds no cells") }
        var newPositions: [Int] = []
        for relative in slice.relativePositions {
            let (position, overflow) = start.addingReportingOverflow(relative)
            guard !overflow, relative >= 0 else { throw CacheError.sliceMismatch("relative position \(relative) is invalid at \(start)") }
            newPositions.append(position)
        }
        for p in newPositions where cells.cell(sequence: Int32(clamping: sequence), position: Int32(clamping: p)) != nil {
            throw CacheError.positionOccupied(sequence: sequence, position: p)
        }
        let reserved = try reserve(sequence: sequence, positions: newPositions)
        // New cells are appended in order, so they are one run.
        guard let first = reserved.first else { throw CacheError.sliceMismatch("slice holds no cells") }
        let angles = table(for: newPositions)
        for layer in 0..<geometry.layers {
            slice.keys[layer].withUnsafeBufferPointer { k in
                slice.values[layer].withUnsafeBufferPointer { v in
                    guard let kBase = k.baseAddress, let vBase = v.baseAddress else { return }
                    write(layer: layer, first: first, count: slice.count, canonicalKeys: kBase, newValues: vBase,
                          rowStride: width, valueStride: valueWidth, table: angles)
                }
            }
        }
        return newPositions
    }
}
