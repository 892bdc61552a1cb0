/// The largest absolute difference between two sequences of floating-point values, as a test oracle that
/// cannot pass on broken output: NaN or infinity in either input, or inputs of different lengths, make the
/// result *defective*, and every comparison of a defective result is false (`<=`, `<`, `>`, `>=`), so both
/// "close enough" and "must differ" assertions fail on it. The description names the worst index and values.
///
///     #expect(maxAbsoluteDifference(actual, expected) <= 1e-4)
///     #expect(maxAbsoluteDifference(stale, expected) > 1e-3)
///     worst = max(worst, try maxAbsoluteDifference(a, b).checkedMaximum())
public struct ValueDifference: Sendable, Equatable, CustomStringConvertible {
    /// Values in the first and second input.
    public let counts: (first: Int, second: Int)
    /// Largest |first[i] - second[i]| over the compared pairs (0 when there are none).
    public let maximum: Double
    /// Index of the worst pair (or of the first non-finite value when defective); nil for empty inputs.
    public let index: Int?
    /// The values at `index`.
    public let values: (first: Double, second: Double)?
    /// Why the difference is meaningless, or nil when both inputs are finite and of equal length.
    public let defect: String?

    /// True when the inputs were comparable: same length, all values finite.
    public var isComparable: Bool { defect == nil }

    /// The maximum, or an error carrying `description` when the inputs were not comparable.
    public func checkedMaximum() throws -> Double {
        guard defect == nil else { throw ValueDifferenceError(description: description) }
        return maximum
    }

    public var description: String {
        let location = index.map { index in
            " at index \(index)" + (values.map { " (\($0.first) vs \($0.second))" } ?? "")
        } ?? ""
        if let defect { return "not comparable: \(defect)\(location)" }
        return "max |Δ| \(maximum)\(location) over \(counts.first) values"
    }

    public static func == (lhs: ValueDifference, rhs: ValueDifference) -> Bool {
        lhs.counts == rhs.counts && lhs.maximum == rhs.maximum && lhs.index == rhs.index
            && lhs.values?.first == rhs.values?.first && lhs.values?.second == rhs.values?.second && lhs.defect == rhs.defect
    }

    // Comparisons are false whenever either side is defective.
    public static func <= (lhs: ValueDifference, tolerance: Double) -> Bool { lhs.isComparable && lhs.maximum <= tolerance }
    public static func < (lhs: ValueDifference, tolerance: Double) -> Bool { lhs.isComparable && lhs.maximum < tolerance }
    public static func > (lhs: ValueDifference, tolerance: Double) -> Bool { lhs.isComparable && lhs.maximum > tolerance }
    public static func >= (lhs: ValueDifference, tolerance: Double) -> Bool { lhs.isComparable && lhs.maximum >= tolerance }
    public static func < (lhs: ValueDifference, rhs: ValueDifference) -> Bool {
        lhs.isComparable && rhs.isComparable && lhs.maximum < rhs.maximum
    }
    public static func > (lhs: ValueDifference, rhs: ValueDifference) -> Bool {
        lhs.isComparable && rhs.isComparable && lhs.maximum > rhs.maximum
    }
}

/// Thrown by `ValueDifference.checkedMaximum()` for inputs that cannot be compared.
public struct ValueDifferenceError: Error, CustomStringConvertible {
    public let description: String
}

/// Compares `first` and `second` element by element; see `ValueDifference`.
public func maxAbsoluteDifference<A: Collection, B: Collection>(_ first: A, _ second: B) -> ValueDifference
where A.Element: BinaryFloatingPoint, B.Element: BinaryFloatingPoint {
    let counts = (first: first.count, second: second.count)
    var maximum = 0.0
    var worst: (index: Int, first: Double, second: Double)?
    for (index, (a, b)) in zip(first, second).enumerated() {
        let x = Double(a), y = Double(b)
        guard x.isFinite, y.isFinite else {
            let which = x.isFinite ? "second" : "first"
            let kind = (x.isFinite ? y : x).isNaN ? "NaN" : "infinity"
            return ValueDifference(counts: counts, maximum: .infinity, index: index, values: (x, y),
                                   defect: "\(kind) in the \(which) input")
        }
        let difference = abs(x - y)
        if worst == nil || difference > maximum {
            maximum = difference
            worst = (index, x, y)
        }
    }
    guard counts.first == counts.second else {
        return ValueDifference(counts: counts, maximum: .infinity, index: nil, values: nil,
                               defect: "lengths differ, \(counts.first) vs \(counts.second)")
    }
    guard counts.first > 0 else {
        // Two empty results (a forward pass that returned no rows) must not pass as a match.
        return ValueDifference(counts: counts, maximum: .infinity, index: nil, values: nil, defect: "both inputs are empty: nothing was compared")
    }
    return ValueDifference(counts: counts, maximum: maximum, index: worst?.index,
                           values: worst.map { ($0.first, $0.second) }, defect: nil)
}
