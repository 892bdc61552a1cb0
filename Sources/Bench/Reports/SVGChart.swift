import Engine
import Foundation

/// Minimal SVG charts for experiment reports: grouped bars or lines over categories, one panel each, stacked
/// vertically. Made to be read as a person sees them: y ticks at round values (`AxisTicks`), x labels that
/// fit (split on "\n" into lines, rotated when still too wide), legends beside the plot, never over it.
public struct SVGChart {
    public struct Series {
        public var name: String
        public var values: [Double?]
        public init(name: String, values: [Double?]) {
            self.name = name
            self.values = values
        }
    }

    public enum Scale: Sendable {
        case linear
        /// Powers of ten; values <= 0 are not drawn.
        case logarithmic
    }

    public struct Panel {
        public var title: String
        public var yLabel: String
        /// Category labels along the x axis; "\n" breaks a label into lines.
        public var categories: [String]
        public var series: [Series]
        /// Draw a dashed reference line at this y (e.g. 1.0 for ratios).
        public var reference: Double?
        /// Lines through the points instead of grouped bars.
        public var lines: Bool
        public var scale: Scale
        /// Print each bar's value above it (for bars whose heights differ by orders of magnitude).
        public var valueLabels: Bool
        /// A caption under the x axis.
        public var xLabel: String?

        public init(title: String, yLabel: String, categories: [String], series: [Series], reference: Double? = nil,
                    lines: Bool = false, scale: Scale = .linear, valueLabels: Bool = false, xLabel: String? = nil) {
            self.title = title
            self.yLabel = yLabel
            self.categories = categories
            self.series = series
            self.reference = reference
            self.lines = lines
            self.scale = scale
            self.valueLabels = valueLabels
            self.xLabel = xLabel
        }
    }

    public var panels: [Panel]
    public init(panels: [Panel]) { self.panels = panels }

    static let colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]
    /// Approximate advance of one character of 12 px sans-serif, for fitting labels.
    static let characterWidth = 7.0
    static let lineHeight = 14.0
    /// Angle of x labels too wide for their group.
    static let labelAngle = 35.0

    /// The SVG document; each panel is `panelHeight` tall plus whatever its x labels need.
    public func render(width: Int = 820, panelHeight: Int = 300) -> String {
        let layouts = panels.map { Layout($0, width: Double(width), height: Double(panelHeight)) }
        let total = layouts.reduce(0) { $0 + $1.height }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(Int(total.rounded(.up)))\" "
            + "font-family=\"sans-serif\" font-size=\"12\">\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        var top = 0.0
        for (panel, layout) in zip(panels, layouts) {
            svg += render(panel, layout: layout, top: top)
            top += layout.height
        }
        return svg + "</svg>\n"
    }

    /// Margins and axis of one panel, measured from its labels.
    struct Layout {
        let ticks: AxisTicks
        let left: Double, plotWidth: Double, plotHeight: Double, upper: Double, height: Double
        let rotateLabels: Bool
        let labelDepth: Double

        init(_ panel: Panel, width: Double, height: Double) {
            let values = panel.series.flatMap { $0.values.compactMap { $0 } }.filter(\.isFinite) + (panel.reference.map { [$0] } ?? [])
            switch panel.scale {
            case .linear:
                // Bars grow from zero; lines use the range of their data.
                let low = values.min() ?? 0
                // Printed values need room above the tallest bar.
                let high = (values.max() ?? 1) * (panel.valueLabels ? 1.15 : 1)
                ticks = panel.lines ? .linear(minimum: low, maximum: high) : .linear(minimum: min(low, 0), maximum: max(high, 0))
            case .logarithmic:
                let positive = values.filter { $0 > 0 }
                ticks = .logarithmic(minimum: positive.min() ?? 1, maximum: positive.max() ?? 10)
            }
            let tickWidth = Double(ticks.labels.map(\.count).max() ?? 1) * SVGChart.characterWidth
            left = max(60, tickWidth + 38)
            let legendWidth = panel.series.count > 1
                ? Double(panel.series.map(\.name.count).max() ?? 0) * SVGChart.characterWidth + 44 : 20
            plotWidth = width - left - legendWidth
            let groupWidth = plotWidth / Double(max(panel.categories.count, 1))
            let lines = panel.categories.map { $0.split(separator: "\n", omittingEmptySubsequences: false) }
            let widest = Double(lines.flatMap { $0.map(\.count) }.max() ?? 0) * SVGChart.characterWidth
            let lineCount = Double(lines.map(\.count).max() ?? 1)
            rotateLabels = widest > groupWidth - 8
            let angle = SVGChart.labelAngle * .pi / 180
            labelDepth = rotateLabels
                ? widest * sin(angle) + lineCount * SVGChart.lineHeight * cos(angle) + 8
                : lineCount * SVGChart.lineHeight + 6
            upper = 30
            let lower = labelDepth + (panel.xLabel == nil ? 8 : SVGChart.lineHeight + 12)
            let baseLower = 40.0
            self.height = height + max(lower - baseLower, 0)
            plotHeight = height - upper - baseLower
        }

        func y(_ value: Double, top: Double) -> Double? {
            ticks.fraction(value).map { top + upper + plotHeight * (1 - $0) }
        }
    }

    private func render(_ panel: Panel, layout: Layout, top: Double) -> String {
        let left = layout.left, plotWidth = layout.plotWidth, plotHeight = layout.plotHeight
        let bottom = top + layout.upper + plotHeight
        func y(_ value: Double) -> Double? { layout.y(value, top: top) }
        var out = "<text x=\"\(left)\" y=\"\(top + 18)\" font-weight=\"bold\">\(escape(panel.title))</text>\n"
        // Grid and y tick labels (minor grid at 2 and 5 x 10^k on log axes).
        if layout.ticks.logarithmic {
            for decade in layout.ticks.values.dropLast() {
                for minor in [2.0, 5.0] {
                    guard let position = y(decade * minor) else { continue }
                    out += "<line x1=\"\(left)\" y1=\(number(position)) x2=\"\(left + plotWidth)\" y2=\(number(position)) stroke=\"#f4f4f4\"/>\n"
                }
            }
        }
        for (value, label) in zip(layout.ticks.values, layout.ticks.labels) {
            guard let position = y(value) else { continue }
            out += "<line x1=\"\(left)\" y1=\(number(position)) x2=\"\(left + plotWidth)\" y2=\(number(position)) stroke=\"#e4e4e4\"/>\n"
            out += "<line x1=\"\(left - 4)\" y1=\(number(position)) x2=\"\(left)\" y2=\(number(position)) stroke=\"black\"/>\n"
            out += "<text x=\"\(left - 7)\" y=\(number(position + 4)) text-anchor=\"end\">\(escape(label))</text>\n"
        }
        out += "<line x1=\"\(left)\" y1=\(number(bottom)) x2=\"\(left + plotWidth)\" y2=\(number(bottom)) stroke=\"black\"/>\n"
        out += "<line x1=\"\(left)\" y1=\(number(top + layout.upper)) x2=\"\(left)\" y2=\(number(bottom)) stroke=\"black\"/>\n"
        let middle = top + layout.upper + plotHeight / 2
        out += "<text x=\"16\" y=\(number(middle)) transform=\"rotate(-90 16 \(middle))\" text-anchor=\"middle\">\(escape(panel.yLabel))</text>\n"

        // Category labels: centred lines, or rotated to end under their group when too wide.
        let groupWidth = plotWidth / Double(max(panel.categories.count, 1))
        for (i, category) in panel.categories.enumerated() {
            let x = left + groupWidth * (Double(i) + 0.5)
            let lines = category.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if layout.rotateLabels {
                let anchorY = bottom + 14
                out += "<text transform=\"translate(\(number(x + 4, quoted: false)) \(number(anchorY, quoted: false))) rotate(-\(Self.labelAngle))\" text-anchor=\"end\">"
                for (line, text) in lines.enumerated() {
                    out += "<tspan x=\"0\" dy=\"\(line == 0 ? 0 : Self.lineHeight)\">\(escape(text))</tspan>"
                }
                out += "</text>\n"
            } else {
                for (line, text) in lines.enumerated() {
                    out += "<text x=\(number(x)) y=\(number(bottom + 16 + Double(line) * Self.lineHeight)) text-anchor=\"middle\">\(escape(text))</text>\n"
                }
            }
        }
        if let xLabel = panel.xLabel {
            out += "<text x=\(number(left + plotWidth / 2)) y=\(number(bottom + layout.labelDepth + 16)) text-anchor=\"middle\">\(escape(xLabel))</text>\n"
        }

        // Data.
        let barWidth = groupWidth * 0.8 / Double(max(panel.series.count, 1))
        for (s, series) in panel.series.enumerated() {
            let color = Self.colors[s % Self.colors.count]
            var points: [String] = []
            for (i, value) in series.values.enumerated() {
                guard let value, i < panel.categories.count, let top = y(value) else { continue }
                if panel.lines {
                    let x = left + groupWidth * (Double(i) + 0.5)
                    points.append("\(x),\(top)")
                    out += "<circle cx=\(number(x)) cy=\(number(top)) r=\"3\" fill=\"\(color)\"/>\n"
                } else {
                    // Bars grow from zero on linear axes and from the axis floor on log axes.
                    let base = layout.ticks.logarithmic ? bottom : (y(0) ?? bottom)
                    let x = left + groupWidth * Double(i) + groupWidth * 0.1 + barWidth * Double(s)
                    out += "<rect x=\(number(x)) y=\(number(min(top, base))) width=\(number(barWidth)) height=\(number(abs(base - top))) fill=\"\(color)\"/>\n"
                    let label = Self.valueLabel(value)
                    if panel.valueLabels {
                        // Across the bar when it is wide enough, else upright along it.
                        let labelX = x + barWidth / 2, labelY = min(top, base) - 4
                        if Double(label.count) * Self.characterWidth * 0.9 <= barWidth {
                            out += "<text x=\(number(labelX)) y=\(number(labelY)) text-anchor=\"middle\" font-size=\"11\" stroke=\"white\" stroke-width=\"3\" paint-order=\"stroke\">\(label)</text>\n"
                        } else {
                            out += "<text transform=\"translate(\(number(labelX + 4, quoted: false)) \(number(labelY, quoted: false))) rotate(-90)\" "
                                + "font-size=\"11\" stroke=\"white\" stroke-width=\"3\" paint-order=\"stroke\">\(label)</text>\n"
                        }
                    }
                }
            }
            if panel.lines, !points.isEmpty {
                out += "<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            }
            if panel.series.count > 1 {
                let legendY = top + layout.upper + Double(s) * 18
                out += "<rect x=\(number(left + plotWidth + 14)) y=\(number(legendY)) width=\"12\" height=\"12\" fill=\"\(color)\"/>\n"
                out += "<text x=\(number(left + plotWidth + 32)) y=\(number(legendY + 10))>\(escape(series.name))</text>\n"
            }
        }
        if let reference = panel.reference, let position = y(reference) {
            out += "<line x1=\"\(left)\" y1=\(number(position)) x2=\"\(left + plotWidth)\" y2=\(number(position)) stroke=\"black\" stroke-dasharray=\"4 3\"/>\n"
        }
        return out
    }

    /// A bar's value in three significant figures ("0.107", "0.000710", "1.00", "0"), in scientific
    /// notation below 10^-4 and from 10^6 ("2.03e-13").
    static func valueLabel(_ value: Double) -> String {
        guard value.isFinite else { return "-" }
        if value == 0 { return "0" }
        let magnitude = Int(floor(log10(abs(value))))
        if magnitude < -4 || magnitude >= 6 { return String(format: "%.2e", value) }
        return String(format: "%.\(max(0, 2 - magnitude))f", value)
    }

    private func number(_ value: Double, quoted: Bool = true) -> String {
        let text = String(format: "%.1f", value)
        return quoted ? "\"\(text)\"" : text
    }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
