import Foundation
import Kernels
import Models

/// Writes one `.safetensors` file: an 8-byte little-endian header length, the JSON header (name → dtype,
/// shape, data_offsets; padded with spaces to a multiple of 8) and the tensors' bytes in order.
struct SafeTensorsWriter {
    private var entries: [(name: String, dtype: DType, shape: [Int], bytes: Data)] = []

    /// Adds `values` (`shape` product floats) stored as `dtype` (narrowed exactly when they came from it).
    mutating func add(_ name: String, shape: [Int], values: [Float], dtype: DType) {
        var bytes = Data(capacity: values.count * dtype.byteCount)
        switch dtype {
        case .f32:
            values.withUnsafeBytes { bytes.append(contentsOf: $0) }
        case .bf16:
            for value in values { append(HalfPrecision.narrowToBFloat16(value), to: &bytes) }
        case .f16:
            for value in values { append(Float16(value).bitPattern, to: &bytes) }
        }
        entries.append((name, dtype, shape, bytes))
    }

    private func append(_ bits: UInt16, to data: inout Data) {
        data.append(UInt8(truncatingIfNeeded: bits))
        data.append(UInt8(truncatingIfNeeded: bits >> 8))
    }

    func write(to url: URL) throws {
        var header: [String: Any] = ["__metadata__": ["format": "pt"]]
        var offset = 0
        for entry in entries {
            header[entry.name] = ["dtype": entry.dtype.rawValue, "shape": entry.shape, "data_offsets": [offset, offset + entry.bytes.count]]
            offset += entry.bytes.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var file = Data()
        var length = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &length) { file.append(contentsOf: $0) }
        file.append(json)
        for entry in entries { file.append(entry.bytes) }
        do { try file.write(to: url) } catch {
            throw PruningError.unwritable(path: url.path, reason: error.localizedDescription)
        }
    }
}
