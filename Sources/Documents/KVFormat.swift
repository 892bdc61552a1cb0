import Kernels

/// The element format of a library entry's stored K/V (`--library-kv`), recorded in the entry's header.
/// The K/V a hit serves are always f32 (`CacheSlice`): a compact entry is widened when it is decoded.
///
/// Each layer's keys `[count, kvHeads, keyDimension]` (values likewise with `valueDimension`) are stored as
/// `count * kvHeads` rows of one head's vector:
/// - `f32`: 4 bytes per value, exact.
/// - `bf16`: 2 bytes, the top half of the f32 rounded to nearest even (relative error <= 2^-8, f32's range).
/// - `f16`: 2 bytes, IEEE binary16 rounded to nearest even (relative error <= 2^-11 for |x| >= 2^-14,
///   absolute <= 2^-25 below; an entry holding |x| > 65504 is stored as f32 instead).
/// - `q8`: per row, blocks of 32 values along the head dimension, each an f32 scale `d = max|x| / 127` and 32
///   int8 `round(x / d)` (36 bytes per 32 values; a row of fewer than 32 values is padded to a block, so heads
///   narrower than 32 cost more per value). Error per value <= d / 2.
public enum KVFormat: String, Sendable, CaseIterable, Codable, CustomStringConvertible {
    case f32, bf16, f16, q8

    public var description: String { rawValue }

    /// What the command line writes unless told otherwise (`--library-kv`): f16, half of f32's bytes with the
    /// smallest quality cost of the compact formats (README, "Compact entries": KL and top-1 of re-anchored
    /// reuse per format on books-5m and tinystories-656k). The library API's own default stays f32 (exact).
    public static let standard = KVFormat.f16

    /// Bytes of `rows` rows of `columns` values, or nil when the product overflows.
    func tensorBytes(rows: Int, columns: Int) -> Int? {
        switch self {
        case .f32: return checkedProduct(rows, columns, 4)
        case .bf16, .f16: return checkedProduct(rows, columns, 2)
        case .q8: return EntryKernels.q8RowBytes(columns: columns).flatMap { checkedProduct(rows, $0) }
        }
    }

    /// Bytes of K/V per token: keys and values of every layer (the payload of a one-token entry), or nil on
    /// overflow.
    public func bytesPerToken(layers: Int, kvHeads: Int, keyDimension: Int, valueDimension: Int) -> Int? {
        guard let keys = tensorBytes(rows: kvHeads, columns: keyDimension),
              let values = tensorBytes(rows: kvHeads, columns: valueDimension) else { return nil }
        return checkedSum(keys, values).flatMap { checkedProduct($0, layers) }
    }

    private var halfFormat: StorageFormat { self == .bf16 ? .bf16 : .f16 }

    /// Writes `tensor` (`[rows, columns]` f32, `rows * columns == tensor.count`) in this format to `output`
    /// (`tensorBytes(rows:columns:)` bytes, any alignment). Returns false, with `output` partly written, when a
    /// value has no finite representation (NaN, infinity, or beyond f16's range for `f16`).
    func encode(_ tensor: UnsafeBufferPointer<Float>, columns: Int, into output: UnsafeMutableRawPointer) -> Bool {
        guard let source = tensor.baseAddress else { return true }
        switch self {
        case .f32:
            output.copyMemory(from: source, byteCount: tensor.count * 4)
            return EntryKernels.firstNonFinite(source, count: tensor.count) == nil
        case .bf16, .f16:
            // Kernel loads and stores are unaligned (memcpy-safe); binding raw bytes to UInt16 is what they expect.
            let words = output.bindMemory(to: UInt16.self, capacity: tensor.count)
            guard HalfKernels.narrow(halfFormat, source, count: tensor.count, into: words) else { return false }
            return HalfKernels.firstNonFinite(halfFormat, words, count: tensor.count) == nil
        case .q8:
            guard columns > 0, tensor.count % columns == 0 else { return false }
            do {
                try EntryKernels.quantize(source, rows: tensor.count / columns, columns: columns,
                                          into: output.bindMemory(to: UInt8.self, capacity: tensor.count))
                return true
            } catch {
                return false
            }
        }
    }

    /// The f32 values of `rows * columns` values stored in this format in `bytes` (exactly
    /// `tensorBytes(rows:columns:)` of them, any alignment).
    /// - Throws: the reason, naming the first value that is not finite (or the q8 block whose scale is not).
    func decode(_ bytes: UnsafeRawBufferPointer, rows: Int, columns: Int) throws(KVFormatRefusal) -> [Float] {
        let count = rows * columns  // bounded: the caller checked tensorBytes, which did not overflow
        guard count > 0, let source = bytes.baseAddress else { return [] }
        var refusal: KVFormatRefusal? = nil
        let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            // safe: buffer holds count floats (count > 0), source holds tensorBytes(rows:columns:) bytes.
            let destination = buffer.baseAddress!
            switch self {
            case .f32:
                UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * 4)
                if let index = EntryKernels.firstNonFinite(destination, count: count) {
                    refusal = .value(index: index, value: destination[index])
                }
            case .bf16, .f16:
                let words = source.bindMemory(to: UInt16.self, capacity: count)
                if let index = HalfKernels.firstNonFinite(halfFormat, words, count: count) {
                    var value: Float = 0
                    HalfKernels.widen(halfFormat, words + index, count: 1, into: &value)
                    refusal = .value(index: index, value: value)
                } else {
                    HalfKernels.widen(halfFormat, words, count: count, into: destination)
                }
            case .q8:
                do throws(EntryKernels.Refusal) {
                    try EntryKernels.dequantize(source.bindMemory(to: UInt8.self, capacity: bytes.count), rows: rows,
                                                columns: columns, into: destination)
                } catch {
                    refusal = .scale(block: error.index)
                }
            }
            if refusal != nil { destination.initialize(repeating: 0, count: count) }
            initialized = count
        }
        if let refusal { throw refusal }
        return values
    }

    /// `tensor` as this format stores it (the values a hit on its entry serves), or nil when a value has no
    /// finite representation in a compact format.
    func rounded(_ tensor: [Float], columns: Int) -> [Float]? {
        guard self != .f32 else { return tensor }  // f32 stores every value; finiteness is `ChunkEntry.violation`'s check
        guard columns > 0, tensor.count % columns == 0, let bytes = tensorBytes(rows: tensor.count / columns, columns: columns) else {
            return nil
        }
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes, 1), alignment: 64)
        defer { scratch.deallocate() }
        guard let base = scratch.baseAddress, tensor.withUnsafeBufferPointer({ encode($0, columns: columns, into: base) }) else {
            return nil
        }
        return try? decode(UnsafeRawBufferPointer(rebasing: scratch[0..<bytes]), rows: tensor.count / columns, columns: columns)
    }
}

/// Why stored K/V cannot be served: a value that is not finite, or a q8 block whose scale is not.
enum KVFormatRefusal: Error, Equatable {
    case value(index: Int, value: Float)
    case scale(block: Int)

    /// The reason for a tensor named `tensor` (`keys of layer 0`).
    func reason(_ tensor: String) -> String {
        switch self {
        case let .value(index, value): return "payload \(tensor) holds \(value) at float \(index)"
        case .scale(let block): return "payload \(tensor) has a q8 block (\(block)) whose scale is not finite"
        }
    }
}
