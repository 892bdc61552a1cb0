/// An owned, 64-byte aligned, zero-initialised byte array: the blocks of a block-quantized weight matrix
/// (`q8` / `q4`, layout in `QuantKernels`).
///
/// `final class` because it owns a large allocation; `@unchecked Sendable` because weights are written once
/// while loading, inside one owner, and only read afterwards (as `FloatBuffer`).
public final class QuantBuffer: @unchecked Sendable {
    /// Number of bytes.
    public let byteCount: Int
    /// Base address; valid for the lifetime of the buffer. Do not escape it past `self`.
    public let pointer: UnsafeMutablePointer<UInt8>

    /// Allocates `byteCount` zeroed bytes.
    public init(byteCount: Int) {
        precondition(byteCount >= 0, "QuantBuffer byte count must not be negative")  // safe: callers pass checked shapes
        self.byteCount = byteCount
        let bytes = max(byteCount, 1)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        pointer = raw.bindMemory(to: UInt8.self, capacity: bytes)
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }
}
