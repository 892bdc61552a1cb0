import Engine
import Foundation

/// Axis ticks a reader can take in at a glance: round values in 1-2-5 steps on linear axes, powers of ten
/// on logarithmic ones, and labels printed with just the decimals the step needs.
public struct AxisTicks: Sendable, Equatable {
    /// The axis runs from `lower` to `upper` (the first and last tick).
    public let lower: Double
    public let upper: Double
    /// Tick values, ascending, from `lower` to `upper`.
    public let values: [Double]
    /// The labels printed beside `values`.
    public let labels: [String]
    public let logarithmic: Bool

    /// Linear ticks covering `minimum...maximum` with at most `maximumIntervals` steps of 1, 2 or 5 × 10^k.
    /// Non-finite or reversed bounds fall back to 0...1.
    public static func linear(minimum: Double, maximum: Double, maximumIntervals: Int = 7) -> AxisTicks {
        var low = minimum.isFinite ? minimum : 0
        var high = maximum.isFinite ? maximum : 1
        if low > high { swap(&low, &high) }
        if !(high - low).isFinite { (low, high) = (0, 1) }
        if high - low < 1e-12 * max(abs(high), 1) {
            // A single value: show a band around it, not below zero if the value is not.
            let pad = high == 0 ? 1 : abs(high) * 0.1
            (low, high) = (low >= 0 ? max(low - pad, 0) : low - pad, high + pad)
        }
        let intervals = Double(max(maximumIntervals, 1))
        var exponent = floor(log10((high - low) / intervals))
        while true {
            for mantissa in [1.0, 2, 5] {
                let step = mantissa * pow(10, exponent)
                let first = floor(low / step + 1e-9), last = ceil(high / step - 1e-9)
                if last - first <= intervals {
                    let count = Int(last - first)
                    let values = (0...count).map { (first + Double($0)) * step }
                    let decimals = max(0, Int(-floor(log10(step) + 1e-9)))
                    let labels = values.map { String(format: "%.\(decimals)f", $0 == 0 ? 0 : $0) }
                    return AxisTicks(lower: values[0], upper: values[count], values: values, labels: labels, logarithmic: false)
                }
            }
            exponent += 1
        }
    }

    /// Logarithmic ticks at the powers of ten around the positive values `minimum...maximum`.
    public static func logarithmic(minimum: Double, maximum: Double) -> AxisTicks {
        let low = minimum.isFinite && minimum > 0 ? minimum : 1
        let high = maximum.isFinite && maximum > 0 ? max(maximum, low) : low
        let first = Int(floor(log10(low) + 1e-9))
        var last = Int(ceil(log10(high) - 1e-9))
        if last == first { last += 1 }
        let values = (first...last).map { pow(10, Double($0)) }
        let labels = (first...last).map { exponent -> String in
            switch exponent {
            case 0...5: return String(format: "%.0f", pow(10, Double(exponent)))
            case -3 ..< 0: return String(format: "%.\(-exponent)f", pow(10, Double(exponent)))
            default: return "1e\(exponent)"
            }
        }
        return AxisTicks(lower: values[0], upper: values[values.count - 1], values: values, labels: labels, logarithmic: true)
    }

    /// Where `value` falls on the axis, 0 at `lower` and 1 at `upper` (outside for values beyond them);
    /// nil for values a logarithmic axis cannot show (zero, negative) and for non-finite values.
    public func fraction(_ value: Double) -> Double? {
        guard value.isFinite else { return nil }
        if logarithmic {
            guard value > 0 else { return nil }
            return (log10(value) - log10(lower)) / (log10(upper) - log10(lower))
        }
        return (value - lower) / (upper - lower)
    }
}
