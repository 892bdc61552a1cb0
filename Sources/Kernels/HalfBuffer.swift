/// An owned, 64-byte aligned, zero-initialised array of 16-bit words (raw bf16 or f16 bit patterns): the
/// storage of weights kept in a 16-bit format.
///
/// `final class` because it owns a large allocation; `@unchecked Sendable` because weights are written once
/// while loading, inside one owner, and only read afterwards (as `FloatBuffer`).
public final class HalfBuffer: @unchecked Sendable {
    /// Number of 16-bit elements.
    public let count: Int
    /// Base address; valid for the lifetime of the buffer. Do not escape it past `self`.
    public let pointer: UnsafeMutablePointer<UInt16>

    /// Allocates `count` zeroed words.
    public init(count: Int) {
        precondition(count >= 0, "HalfBuffer count must not be negative")  // safe: callers pass checked shapes
        self.count = count
        let bytes = max(count, 1) * MemoryLayout<UInt16>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        pointer = raw.bindMemory(to: UInt16.self, capacity: max(count, 1))
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    /// Bytes held.
    public var byteCount: Int { count * MemoryLayout<UInt16>.stride }
}
