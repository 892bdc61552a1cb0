import Foundation

/// The report of `reanchor bench rap` and its figure: perplexity ratio against the keep ratio per model and
/// pair score; what pruning saves (KV bytes, attention FLOPs); attention time relative to unpruned per shape.
public struct RAPReport: Codable, Sendable {
    public var calibration: String
    public var evaluation: String
    public var quality: [RAPExperiment.QualityRow]
    public var timing: [RAPTiming.Row]

    public init(calibration: String, evaluation: String, quality: [RAPExperiment.QualityRow], timing: [RAPTiming.Row]) {
        self.calibration = calibration
        self.evaluation = evaluation
        self.quality = quality
        self.timing = timing
    }

    public func chart() -> SVGChart {
        let keeps = Array(Set(quality.map(\.keep) + timing.map(\.keep))).sorted(by: >)
        let categories = keeps.map { String(format: "%.2f", $0) }
        var panels: [SVGChart.Panel] = []
        let methods = Array(Set(quality.map { "\($0.model) \($0.method)" })).sorted()
        if !methods.isEmpty {
            panels.append(SVGChart.Panel(
                title: "Perplexity relative to the unpruned model (calibrated on \(calibration), scored on \(evaluation))",
                yLabel: "PPL / unpruned", categories: categories,
                series: methods.map { name in
                    SVGChart.Series(name: name, values: keeps.map { keep in
                        quality.first { "\($0.model) \($0.method)" == name && $0.keep == keep }?.perplexity_ratio
                    })
                }, reference: 1, lines: true, xLabel: "keep ratio (RoPE pairs and value channels per head)"))
        }
        var savings: [SVGChart.Series] = []
        for model in Array(Set(quality.map(\.model))).sorted() {
            let rows = quality.filter { $0.model == model && $0.method == quality.first?.method }
            savings.append(SVGChart.Series(name: "\(model) KV bytes", values: keeps.map { k in rows.first { $0.keep == k }?.kv_bytes_ratio }))
            savings.append(SVGChart.Series(name: "\(model) attention FLOPs", values: keeps.map { k in rows.first { $0.keep == k }?.attention_flops_ratio }))
        }
        for shape in Array(Set(timing.map(\.shape))).sorted() {
            let rows = timing.filter { $0.shape == shape }
            savings.append(SVGChart.Series(name: "\(shape) attention prefill time", values: keeps.map { k in rows.first { $0.keep == k }?.prefill_attention_ratio }))
            savings.append(SVGChart.Series(name: "\(shape) attention decode time", values: keeps.map { k in rows.first { $0.keep == k }?.decode_attention_ratio }))
        }
        if !savings.isEmpty {
            let context = timing.first.map { ", timing at \($0.context) tokens of context" } ?? ""
            panels.append(SVGChart.Panel(title: "Cost relative to the unpruned model\(context)", yLabel: "pruned / unpruned",
                                         categories: categories, series: savings, reference: 1, lines: true,
                                         xLabel: "keep ratio"))
        }
        return SVGChart(panels: panels)
    }
}
