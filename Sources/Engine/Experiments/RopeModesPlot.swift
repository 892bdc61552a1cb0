/// The figure for `reanchor bench rope-modes`: decode speed and TTFT per mode against context, and the
/// perplexity after truncation per policy relative to re-prefill.
extension RopeModesExperiment.Report {
    public func chart() -> SVGChart {
        let contexts = Array(Set(cost.map(\.context))).sorted()
        let modes = ["post", "pre", "anchored"]
        func costSeries(_ value: (RopeModesExperiment.CostRow) -> Double) -> [SVGChart.Series] {
            modes.map { mode in
                SVGChart.Series(name: mode, values: contexts.map { context in
                    cost.first { $0.mode == mode && $0.context == context }.map(value)
                })
            }
        }
        var panels = [
            SVGChart.Panel(title: "Decode speed by key storage (\(cost_model))", yLabel: "tokens/s",
                           categories: contexts.map { "\($0)" }, series: costSeries(\.decode_tok_s), lines: true),
            SVGChart.Panel(title: "Time to first token relative to post-RoPE", yLabel: "TTFT / post", categories: contexts.map { "\($0)" },
                           series: costSeries(\.ttft_ratio_to_post), reference: 1, lines: true),
        ]
        let quality = truncation.filter { $0.perplexity != nil }
        if !quality.isEmpty {
            let settings = Array(Set(quality.map { "\($0.context) f=\($0.fraction) keep=\($0.keep)" })).sorted()
            let policies = ["reanchor", "reprefill", "naive"]
            panels.append(SVGChart.Panel(
                title: "Perplexity after truncation relative to re-prefill (\(quality_model ?? ""))", yLabel: "PPL / re-prefill",
                categories: settings.map { $0.replacingOccurrences(of: "fraction", with: "f") },
                series: policies.map { policy in
                    SVGChart.Series(name: policy, values: settings.map { setting in
                        quality.first { "\($0.context) f=\($0.fraction) keep=\($0.keep)" == setting && $0.policy == policy }?.perplexity_ratio_to_reprefill
                    })
                }, reference: 1))
        }
        return SVGChart(panels: panels)
    }
}
