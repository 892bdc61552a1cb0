import Foundation

/// Minimal SVG charts for experiment reports: grouped bars and lines, one panel each, stacked vertically.
public struct SVGChart {
    public struct Series {
        public var name: String
        public var values: [Double?]
        public init(name: String, values: [Double?]) {
            self.name = name
            self.values = values
        }
    }

    public struct Panel {
        public var title: String
        public var yLabel: String
        public var categories: [String]
        public var series: [Series]
        /// Draw a dashed reference line at this y (e.g. 1.0 for ratios).
        public var reference: Double?
        public var lines: Bool
        public init(title: String, yLabel: String, categories: [String], series: [Series], reference: Double? = nil, lines: Bool = false) {
            self.title = title
            self.yLabel = yLabel
            self.categories = categories
            self.series = series
            self.reference = reference
            self.lines = lines
        }
    }

    public var panels: [Panel]
    public init(panels: [Panel]) { self.panels = panels }

    static let colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]

    public func render(width: Int = 820, panelHeight: Int = 300) -> String {
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(panels.count * panelHeight)\" font-family=\"sans-serif\" font-size=\"12\">\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        for (index, panel) in panels.enumerated() {
            svg += render(panel, top: Double(index * panelHeight), width: Double(width), height: Double(panelHeight))
        }
        return svg + "</svg>\n"
    }

    private func render(_ panel: Panel, top: Double, width: Double, height: Double) -> String {
        let left = 70.0, right = 160.0, upper = 30.0, lower = 40.0
        let plotWidth = width - left - right, plotHeight = height - upper - lower
        let values = panel.series.flatMap { $0.values.compactMap { $0 } } + (panel.reference.map { [$0] } ?? [])
        let maximum = max(values.max() ?? 1, 1e-9) * 1.1
        func y(_ value: Double) -> Double { top + upper + plotHeight * (1 - value / maximum) }
        var out = "<text x=\"\(left)\" y=\"\(top + 18)\" font-weight=\"bold\">\(escape(panel.title))</text>\n"
        out += "<line x1=\"\(left)\" y1=\"\(top + upper + plotHeight)\" x2=\"\(left + plotWidth)\" y2=\"\(top + upper + plotHeight)\" stroke=\"black\"/>\n"
        out += "<line x1=\"\(left)\" y1=\"\(top + upper)\" x2=\"\(left)\" y2=\"\(top + upper + plotHeight)\" stroke=\"black\"/>\n"
        for tick in 0...4 {
            let value = maximum * Double(tick) / 4
            out += "<text x=\"\(left - 6)\" y=\"\(y(value) + 4)\" text-anchor=\"end\">\(format(value))</text>\n"
            out += "<line x1=\"\(left)\" y1=\"\(y(value))\" x2=\"\(left + plotWidth)\" y2=\"\(y(value))\" stroke=\"#eee\"/>\n"
        }
        out += "<text x=\"16\" y=\"\(top + upper + plotHeight / 2)\" transform=\"rotate(-90 16 \(top + upper + plotHeight / 2))\" text-anchor=\"middle\">\(escape(panel.yLabel))</text>\n"
        let groups = Double(max(panel.categories.count, 1))
        let groupWidth = plotWidth / groups
        for (i, category) in panel.categories.enumerated() {
            out += "<text x=\"\(left + groupWidth * (Double(i) + 0.5))\" y=\"\(top + upper + plotHeight + 16)\" text-anchor=\"middle\">\(escape(category))</text>\n"
        }
        let barWidth = groupWidth * 0.8 / Double(max(panel.series.count, 1))
        for (s, series) in panel.series.enumerated() {
            let color = Self.colors[s % Self.colors.count]
            var points: [String] = []
            for (i, value) in series.values.enumerated() {
                guard let value, i < panel.categories.count else { continue }
                if panel.lines {
                    let x = left + groupWidth * (Double(i) + 0.5)
                    points.append("\(x),\(y(value))")
                    out += "<circle cx=\"\(x)\" cy=\"\(y(value))\" r=\"3\" fill=\"\(color)\"/>\n"
                } else {
                    let x = left + groupWidth * Double(i) + groupWidth * 0.1 + barWidth * Double(s)
                    out += "<rect x=\"\(x)\" y=\"\(y(value))\" width=\"\(barWidth)\" height=\"\(top + upper + plotHeight - y(value))\" fill=\"\(color)\"/>\n"
                }
            }
            if panel.lines, !points.isEmpty {
                out += "<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            }
            out += "<rect x=\"\(left + plotWidth + 14)\" y=\"\(top + upper + Double(s) * 18)\" width=\"12\" height=\"12\" fill=\"\(color)\"/>\n"
            out += "<text x=\"\(left + plotWidth + 32)\" y=\"\(top + upper + Double(s) * 18 + 10)\">\(escape(series.name))</text>\n"
        }
        if let reference = panel.reference {
            out += "<line x1=\"\(left)\" y1=\"\(y(reference))\" x2=\"\(left + plotWidth)\" y2=\"\(y(reference))\" stroke=\"black\" stroke-dasharray=\"4 3\"/>\n"
        }
        return out
    }

    private func format(_ value: Double) -> String {
        value >= 100 ? String(format: "%.0f", value) : value >= 1 ? String(format: "%.1f", value) : String(format: "%.2f", value)
    }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
