import Foundation
import Kernels
#if canImport(Glibc)
import Glibc
#endif

/// A memory-mapped `.safetensors` file: an 8-byte little-endian header length, a JSON header, then data.
///
/// The header is validated in full on open (`SafeTensorsHeader`), so reading a tensor afterwards cannot go
/// out of bounds. Format: https://github.com/huggingface/safetensors
public final class SafeTensorsFile {
    public let path: String
    public let tensors: [String: TensorInfo]
    /// `__metadata__` string pairs (e.g. tied-weight aliases).
    public let metadata: [String: String]
    /// Identity of the file when it was opened (for the weight digest cache).
    public let identity: FileIdentity
    private let base: UnsafeMutableRawPointer
    private let mappedLength: Int
    private let dataOffset: Int

    /// The largest header this loader accepts (the format's own limit is 100 MB).
    public static let maximumHeaderLength = 100_000_000

    public init(path: String) throws {
        self.path = path
        let name = (path as NSString).lastPathComponent
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw ModelError.fileNotFound(path) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw ModelError.unreadable(file: path, reason: "fstat failed") }
        identity = FileIdentity(status)
        let length = Int(status.st_size)
        guard length >= 8 else { throw ModelError.invalidSafetensors(file: name, reason: "file is \(length) bytes, shorter than the 8-byte header length") }
        guard let mapped = mmap(nil, length, PROT_READ, MAP_PRIVATE, descriptor, 0), mapped != MAP_FAILED else {
            throw ModelError.unreadable(file: path, reason: "mmap failed")
        }
        base = mapped
        mappedLength = length
        do {
            let headerLength = Int(clamping: mapped.loadUnaligned(as: UInt64.self).littleEndian)
            guard headerLength <= length - 8, headerLength <= Self.maximumHeaderLength else {
                throw ModelError.invalidSafetensors(file: name, reason: "header length \(headerLength) exceeds the file (\(length) bytes): truncated or corrupt")
            }
            dataOffset = 8 + headerLength
            let header = try SafeTensorsHeader(Data(bytes: mapped + 8, count: headerLength), file: name, dataLength: length - dataOffset)
            (tensors, metadata) = (header.tensors, header.metadata)
        } catch {
            munmap(mapped, length)
            throw error
        }
    }

    deinit { munmap(base, mappedLength) }

    /// Copies tensor `info` into `destination` as f32 (`info.elementCount` floats), widening f16/bf16.
    public func read(_ info: TensorInfo, into destination: UnsafeMutablePointer<Float>) {
        // safe: SafeTensorsHeader proved info.range lies inside the mapped data section and holds
        // exactly elementCount × byteCount bytes.
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

    /// Copies tensor `info` into `destination` (`info.elementCount` words) as `format` (bf16 or f16; any other
    /// value is taken as bf16): a copy
    /// when the file stores that format, else a conversion with round-to-nearest-even (f32 -> bf16 / f16, and
    /// between the two 16-bit formats through f32, which holds both exactly).
    public func read(_ info: TensorInfo, as format: StorageFormat, into destination: UnsafeMutablePointer<UInt16>) {
        // safe: SafeTensorsHeader proved info.range lies inside the mapped data section and holds
        // exactly elementCount × byteCount bytes; loads below are unaligned-safe.
        let source = UnsafeRawPointer(base + dataOffset + info.range.lowerBound)
        let count = info.elementCount
        switch (info.dtype, format) {
        case (.bf16, .bf16), (.f16, .f16):
            UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * 2)
        default:
            for i in 0..<count {
                let value: Float
                switch info.dtype {
                case .f32: value = source.loadUnaligned(fromByteOffset: i * 4, as: Float.self)
                case .bf16: value = Float(bitPattern: UInt32(source.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)) << 16)
                case .f16: value = Float(Float16(bitPattern: source.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
                }
                destination[i] = format == .f16 ? Float16(value).bitPattern : HalfPrecision.narrowToBFloat16(value)
            }
        }
    }

    /// Raw bytes of the header.
    public var headerBytes: Data { Data(bytes: base + 8, count: dataOffset - 8) }

    /// The whole file (header and tensor bytes), without copying. Do not escape the pointer.
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base, count: mappedLength))
    }

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
