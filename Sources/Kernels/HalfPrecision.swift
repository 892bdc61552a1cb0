/// Conversions of 16-bit float formats stored in checkpoints to f32.
public enum HalfPrecision {
    /// bf16 is the top half of an IEEE f32: widening is a shift.
    /// - source: `count` raw little-endian bf16 values; destination: `count` floats.
    public static func widenBFloat16(_ source: UnsafePointer<UInt16>, count: Int, into destination: UnsafeMutablePointer<Float>) {
        for i in 0..<count { destination[i] = Float(bitPattern: UInt32(source[i]) << 16) }
    }

    /// IEEE binary16 to f32.
    public static func widenFloat16(_ source: UnsafePointer<UInt16>, count: Int, into destination: UnsafeMutablePointer<Float>) {
        for i in 0..<count { destination[i] = Float(Float16(bitPattern: source[i])) }
    }

    /// f32 to bf16 with round-to-nearest-even (used to write test checkpoints).
    public static func narrowToBFloat16(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return 0x7FC0 }
        let rounding = UInt32(0x7FFF) + ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }
}
