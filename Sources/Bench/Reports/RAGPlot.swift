import Engine
/// The figure for `reanchor bench rag`: warm time to first token and KL divergence to full recompute per
/// reuse mode, with each bar's value printed (the KL of the good modes is too small to see as a bar).
extension RAGExperiment.Report {
    public func chart() -> SVGChart {
        let modes = modes.map(\.mode)
        return SVGChart(panels: [
            SVGChart.Panel(title: "Warm TTFT relative to full recompute (\(model))", yLabel: "TTFT / full", categories: modes,
                           series: [SVGChart.Series(name: "warm/full", values: self.modes.map { $0.ttft_ratio_to_full_warm })],
                           reference: 1, valueLabels: true),
            SVGChart.Panel(title: "KL divergence to full recompute over the answer (\(model))", yLabel: "nats", categories: modes,
                           series: [SVGChart.Series(name: "KL", values: self.modes.map { $0.kl_to_full })], valueLabels: true),
        ])
    }
}
