import Testing
import TestSupport

/// The comparison oracle must fail on broken output: NaN, infinity, a length mismatch.
@Suite struct ValueDifferenceTests {
    @Test func reportsTheWorstIndexAndValues() throws {
        let difference = maxAbsoluteDifference([1, 2, 3] as [Float], [1, 2.5, 3.1] as [Float])
        #expect(difference.isComparable)
        #expect(difference.index == 1)
        #expect(difference.values?.first == 2 && difference.values?.second == 2.5)
        #expect(difference.maximum == 0.5)
        #expect(difference <= 0.5 && !(difference < 0.5) && difference > 0.4)
        #expect(try difference.checkedMaximum() == 0.5)
        #expect(difference.description.contains("index 1"))
    }

    @Test func equalInputsDifferByZero() {
        let values: [Float] = [0, -1, 3.5]
        let difference = maxAbsoluteDifference(values, values[...])
        #expect(difference.isComparable && difference.maximum == 0)
        #expect(difference <= 0)
    }

    @Test(arguments: [Float.nan, .infinity, -.infinity])
    func nonFiniteValuesFailEveryComparison(bad: Float) {
        for (first, second) in [([1, bad, 3], [1, 2, 3]), ([1, 2, 3], [1, 2, bad])] as [([Float], [Float])] {
            let difference = maxAbsoluteDifference(first, second)
            #expect(!difference.isComparable)
            #expect(difference.index == first.firstIndex { !$0.isFinite } ?? second.firstIndex { !$0.isFinite })
            // Neither "close" nor "different" holds: a broken output cannot pass either kind of assertion.
            #expect(!(difference <= 1e30) && !(difference < 1e30) && !(difference > 0) && !(difference >= 0))
            #expect(!(difference < maxAbsoluteDifference([0] as [Float], [1] as [Float])))
            #expect(!(difference > maxAbsoluteDifference([0] as [Float], [1] as [Float])))
            #expect(throws: ValueDifferenceError.self) { try difference.checkedMaximum() }
            #expect(difference.description.contains(bad.isNaN ? "NaN" : "infinity"))
        }
    }

    @Test func lengthMismatchFails() {
        let difference = maxAbsoluteDifference([1, 2, 3] as [Float], [1, 2] as [Double])
        #expect(!difference.isComparable)
        #expect(!(difference <= 1) && !(difference > 0))
        #expect(difference.description.contains("3 vs 2"))
        let empty = maxAbsoluteDifference([] as [Float], [1] as [Float])
        #expect(!empty.isComparable)
        #expect(!(empty <= 1))
    }
}
