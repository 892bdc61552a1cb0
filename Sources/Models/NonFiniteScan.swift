/// Finds NaN and infinity in weights as they are loaded.
enum NonFiniteScan {
    /// Index of the first non-finite value of `values[0..<count]`, or nil when all are finite.
    ///
    /// Fast path: sums `x * 0` in SIMD lanes, which stays 0 for finite `x` and turns NaN for NaN or ±inf
    /// (IEEE: inf × 0 = NaN), so a clean tensor costs one multiply-add per element; the exact index is
    /// searched only when that sum is not 0.
    static func firstNonFinite(_ values: UnsafePointer<Float>, count: Int) -> Int? {
        var lanes = SIMD16<Float>(repeating: 0)
        let whole = count / 16 * 16
        var index = 0
        while index < whole {
            // safe: index + 16 <= whole <= count.
            let chunk = UnsafeRawPointer(values + index).loadUnaligned(as: SIMD16<Float>.self)
            lanes += chunk * 0
            index += 16
        }
        var tail: Float = 0
        while index < count {
            tail += values[index] * 0
            index += 1
        }
        // NaN compares unequal to everything, so a clean sum (0 or -0) is the only way out here.
        if lanes.sum() + tail == 0 { return nil }
        return (0..<count).first { !values[$0].isFinite }
    }
}
