import Foundation
import Kernels
#if canImport(Glibc)
import Glibc
#endif

/// Element types a checkpoint may store.
public enum DType: String, Sendable {
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"

    public var byteCount: Int { self == .f32 ? 4 : 2 }
}

/// One tensor's entry in a safetensors header.
public struct TensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    /// Byte range within the data section (after the header).
    public let range: Range<Int>

    public var elementCount: Int { shape.reduce(1, *) }
}

/// A memory-mapped `.safetensors` file: an 8-byte little-endian header length, a JSON header, then data.
///
/// The header is validated in full on open (offsets within the file, sizes equal to shape × dtype,
/// known dtypes), so reading a tensor afterwards cannot go out of bounds. Format:
/// https://github.com/huggingface/safetensors
public final class SafeTensorsFile {
    public let path: String
    public let tensors: [String: TensorInfo]
    /// `__metadata__` string pairs (e.g. tied-weight aliases).
    public let metadata: [String: String]
    private let base: UnsafeMutableRawPointer
    private let mappedLength: Int
    private let dataOffset: Int

    public init(path: String) throws {
        self.path = path
        let name = (path as NSString).lastPathComponent
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw ModelError.fileNotFound(path) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw ModelError.unreadable(file: path, reason: "fstat failed") }
        let length = Int(status.st_size)
        guard length >= 8 else { throw ModelError.invalidSafetensors(file: name, reason: "file is \(length) bytes, shorter than the 8-byte header length") }
        guard let mapped = mmap(nil, length, PROT_READ, MAP_PRIVATE, descriptor, 0), mapped != MAP_FAILED else {
            throw ModelError.unreadable(file: path, reason: "mmap failed")
        }
        base = mapped
        mappedLength = length
        do {
            let headerLength = Int(clamping: mapped.loadUnaligned(as: UInt64.self).littleEndian)
            guard headerLength <= length - 8, headerLength <= 100_000_000 else {
                throw ModelError.invalidSafetensors(file: name, reason: "header length \(headerLength) exceeds the file (\(length) bytes): truncated or corrupt")
            }
            dataOffset = 8 + headerLength
            let header = Data(bytes: mapped + 8, count: headerLength)
            (tensors, metadata) = try Self.parseHeader(header, file: name, dataLength: length - dataOffset)
        } catch {
            munmap(mapped, length)
            throw error
        }
    }

    deinit { munmap(base, mappedLength) }

    static func parseHeader(_ header: Data, file: String, dataLength: Int) throws -> ([String: TensorInfo], [String: String]) {
        guard let object = try? JSONSerialization.jsonObject(with: header), let json = object as? [String: Any] else {
            throw ModelError.invalidSafetensors(file: file, reason: "header is not a JSON object")
        }
        var tensors: [String: TensorInfo] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in json {
            if name == "__metadata__" {
                metadata = (value as? [String: String]) ?? [:]
                continue
            }
            guard let entry = value as? [String: Any], let dtypeName = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2 else {
                throw ModelError.invalidSafetensors(file: file, reason: "tensor '\(name)' needs dtype, shape and data_offsets [begin, end]")
            }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw ModelError.unsupportedDType(file: file, tensor: name, dtype: dtypeName)
            }
            guard shape.allSatisfy({ $0 >= 0 }) else {
                throw ModelError.invalidSafetensors(file: file, reason: "tensor '\(name)' has a negative dimension in \(shape)")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end, end <= dataLength else {
                throw ModelError.invalidSafetensors(file: file, reason: "tensor '\(name)' data_offsets [\(begin), \(end)] fall outside the \(dataLength)-byte data section: truncated or corrupt")
            }
            let (elements, overflow) = shape.reduce((1, false)) { partial, dimension in
                let product = partial.0.multipliedReportingOverflow(by: dimension)
                return (product.partialValue, partial.1 || product.overflow)
            }
            guard !overflow, elements * dtype.byteCount == end - begin else {
                throw ModelError.invalidSafetensors(file: file, reason: "tensor '\(name)' shape \(shape) × \(dtype.byteCount) bytes does not match its \(end - begin)-byte range")
            }
            tensors[name] = TensorInfo(name: name, dtype: dtype, shape: shape, range: begin..<end)
        }
        return (tensors, metadata)
    }

    /// Copies tensor `info` into `destination` as f32 (`info.elementCount` floats), widening f16/bf16.
    public func read(_ info: TensorInfo, into destination: UnsafeMutablePointer<Float>) {
        // safe: parseHeader proved info.range lies inside the mapped data section.
        let source = UnsafeRawPointer(base + dataOffset + info.range.lowerBound)
        let count = info.elementCount
        switch info.dtype {
        case .f32:
            UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * 4)
        case .bf16:
            withHalfWords(source, count: count) { HalfPrecision.widenBFloat16($0, count: count, into: destination) }
        case .f16:
            withHalfWords(source, count: count) { HalfPrecision.widenFloat16($0, count: count, into: destination) }
        }
    }

    /// Raw bytes of the header (for fingerprints).
    public var headerBytes: Data { Data(bytes: base + 8, count: dataOffset - 8) }

    private func withHalfWords(_ source: UnsafeRawPointer, count: Int, _ body: (UnsafePointer<UInt16>) -> Void) {
        if Int(bitPattern: source) % 2 == 0 {
            body(source.assumingMemoryBound(to: UInt16.self))
        } else {
            let copy = UnsafeMutablePointer<UInt16>.allocate(capacity: count)
            defer { copy.deallocate() }
            UnsafeMutableRawPointer(copy).copyMemory(from: source, byteCount: count * 2)
            body(copy)
        }
    }
}
