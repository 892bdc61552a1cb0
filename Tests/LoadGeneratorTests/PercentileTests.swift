import Testing
@testable import LoadGenerator

/// Nearest-rank percentiles report measured values.
@Suite struct PercentileTests {
    @Test func nearestRank() {
        let four = Percentiles([4, 1, 3, 2])
        #expect(four.value(50) == 2)
        #expect(four.value(75) == 3)
        #expect(four.value(76) == 4)
        #expect(four.value(100) == 4)
        #expect(four.value(1) == 1)
        let hundred = Percentiles((1...100).map(Double.init).reversed())
        #expect(hundred.value(99) == 99)
        #expect(hundred.value(50) == 50)
        #expect(hundred.median == 50)
        #expect(Percentiles([7]).value(99) == 7)
    }

    @Test func emptyOutOfRangeAndNaN() {
        #expect(Percentiles([]).value(50) == nil)
        #expect(Percentiles([1, 2]).value(0) == nil)
        #expect(Percentiles([1, 2]).value(101) == nil)
        #expect(Percentiles([.nan, 3, .nan, 1]).sorted == [1, 3])
    }
}
