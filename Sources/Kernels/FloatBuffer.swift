/// An owned, 64-byte aligned, zero-initialised array of `Float`: the storage behind every tensor.
///
/// `final class` because it owns a large mutable allocation; copies of the reference share it.
/// It is `@unchecked Sendable` so that immutable weights can be shared by tasks: callers that mutate a
/// buffer (caches, scratch space) keep it inside one owner and never hand it across isolation domains.
public final class FloatBuffer: @unchecked Sendable {
    /// Number of `Float` elements.
    public let count: Int
    /// Base address; valid for the lifetime of the buffer. Do not escape it past `self`.
    public let pointer: UnsafeMutablePointer<Float>

    /// Allocates `count` zeroed floats.
    public init(count: Int) {
        precondition(count >= 0, "FloatBuffer count must not be negative")  // safe: callers pass computed sizes
        self.count = count
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    /// Copies `values` into a new buffer.
    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { source in
            guard let base = source.baseAddress else { return }
            pointer.update(from: base, count: values.count)
        }
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    /// Bytes held.
    public var byteCount: Int { count * MemoryLayout<Float>.stride }

    /// A copy of the elements as an array (tests and small outputs only).
    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    public subscript(index: Int) -> Float {
        get { pointer[index] }
        set { pointer[index] = newValue }
    }
}

/// Scratch space that grows on demand and is reused between calls, so that the decode loop allocates nothing.
public struct Scratch {
    public private(set) var buffer: FloatBuffer

    public init() { buffer = FloatBuffer(count: 0) }

    /// A pointer to at least `count` floats; contents are unspecified. Invalidated by the next call with a larger count.
    public mutating func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if buffer.count < count { buffer = FloatBuffer(count: count) }
        return buffer.pointer
    }
}
