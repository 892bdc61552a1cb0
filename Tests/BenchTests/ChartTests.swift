import Testing
@testable import Bench

/// Charts read as a person sees them: round ticks, log axes at powers of ten, labels that fit.
@Suite struct ChartTests {
    @Test func linearTicksAreRoundOneTwoFiveSteps() {
        let ratio = AxisTicks.linear(minimum: 0, maximum: 1.248)
        #expect(ratio.labels == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0", "1.2", "1.4"])
        let speed = AxisTicks.linear(minimum: 0, maximum: 599.9)
        #expect(speed.values == [0, 100, 200, 300, 400, 500, 600])
        #expect(speed.labels.first == "0" && speed.labels.last == "600")
        let band = AxisTicks.linear(minimum: 0.949, maximum: 1.248)
        #expect(band.lower <= 0.949 && band.upper >= 1.248)
        #expect(band.labels.first == "0.90" && band.labels.last == "1.25")
        let small = AxisTicks.linear(minimum: 0, maximum: 0.107)
        #expect(small.labels == ["0.00", "0.02", "0.04", "0.06", "0.08", "0.10", "0.12"])
    }

    @Test(arguments: [(0.0, 1e-9), (-3.0, 7.0), (0.0, 0.0), (5.0, 5.0), (-2.0, -2.0), (1e-3, 1e9), (0.0, .nan), (.infinity, 2.0)])
    func linearTicksAlwaysCoverTheDataWithFewLabels(bounds: (Double, Double)) {
        let ticks = AxisTicks.linear(minimum: bounds.0, maximum: bounds.1)
        #expect((2...8).contains(ticks.values.count), "\(ticks.labels)")
        #expect(ticks.values.allSatisfy { $0.isFinite })
        #expect(ticks.values == ticks.values.sorted() && ticks.lower < ticks.upper)
        for bound in [bounds.0, bounds.1] where bound.isFinite {
            #expect(ticks.lower <= bound && bound <= ticks.upper, "\(bound) outside \(ticks.labels)")
        }
        #expect(Set(ticks.labels).count == ticks.labels.count, "labels must be distinct: \(ticks.labels)")
    }

    @Test func logarithmicTicksArePowersOfTen() {
        let ticks = AxisTicks.logarithmic(minimum: 0.017, maximum: 2755)
        #expect(ticks.values == [0.01, 0.1, 1, 10, 100, 1000, 10000])
        #expect(ticks.labels == ["0.01", "0.1", "1", "10", "100", "1000", "10000"])
        #expect(ticks.fraction(0.01) == 0 && ticks.fraction(10000) == 1)
        #expect(ticks.fraction(0) == nil && ticks.fraction(-1) == nil && ticks.fraction(.nan) == nil)
        #expect(AxisTicks.logarithmic(minimum: 5, maximum: 5).values == [1, 10])
    }

    @Test func valueLabelsKeepThreeSignificantFigures() {
        #expect(SVGChart.valueLabel(0.10716) == "0.107")
        #expect(SVGChart.valueLabel(0.00071) == "0.000710")
        #expect(SVGChart.valueLabel(1.0) == "1.00")
        #expect(SVGChart.valueLabel(0) == "0")
        #expect(SVGChart.valueLabel(310.4) == "310")
        #expect(SVGChart.valueLabel(2.03e-13) == "2.03e-13")
        #expect(SVGChart.valueLabel(.nan) == "-" && SVGChart.valueLabel(.infinity) == "-")
    }

    @Test func longCategoryLabelsAreRotatedAndLegendsOnlyForSeveralSeries() {
        let long = (1...6).map { "a rather long category label \($0)" }
        let panel = SVGChart.Panel(title: "t", yLabel: "y", categories: long,
                                   series: [SVGChart.Series(name: "only", values: long.map { _ in 1 })])
        let svg = SVGChart(panels: [panel]).render()
        #expect(svg.contains("rotate(-35"))
        #expect(!svg.contains(">only<"), "a single series needs no legend")
        let short = SVGChart.Panel(title: "t", yLabel: "y", categories: ["a", "b"],
                                   series: [SVGChart.Series(name: "one", values: [1, 2]), SVGChart.Series(name: "two", values: [2, .nan])])
        let other = SVGChart(panels: [short]).render()
        #expect(!other.contains("rotate(-35"))
        #expect(other.contains(">one<") && other.contains(">two<"))
        #expect(!other.lowercased().contains("nan"), "non-finite values are not drawn")
    }
}
