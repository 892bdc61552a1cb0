import Engine
import Foundation

/// The figure for `reanchor bench rope-modes`: decode speed and TTFT per mode against context, restore time
/// per overflow policy (log scale: the policies differ by orders of magnitude), and the perplexity after
/// truncation per policy relative to re-prefill.
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
        let policies = ["reanchor", "reprefill", "naive"]
        var panels = [
            SVGChart.Panel(title: "Decode speed by key storage (\(cost_model))", yLabel: "tokens/s",
                           categories: contexts.map { "\($0)" }, series: costSeries(\.decode_tok_s), lines: true,
                           xLabel: "context (tokens)"),
            SVGChart.Panel(title: "Time to first token relative to post-RoPE (\(cost_model))", yLabel: "TTFT / post",
                           categories: contexts.map { "\($0)" }, series: costSeries(\.ttft_ratio_to_post), reference: 1, lines: true,
                           xLabel: "context (tokens)"),
        ]
        // Restore time on the cost model: the middle fraction, the most sink tokens.
        let timed = truncation.filter { $0.model == cost_model }
        let fractions = Array(Set(timed.map(\.fraction))).sorted()
        if let keep = timed.map(\.keep).max(), !fractions.isEmpty {
            let fraction = fractions[fractions.count / 2]
            let restoreContexts = Array(Set(timed.map(\.context))).sorted()
            panels.append(SVGChart.Panel(
                title: "Restore time after dropping \(Int((fraction * 100).rounded()))% of the context (\(cost_model), keep \(keep))",
                yLabel: "ms (log scale)", categories: restoreContexts.map { "\($0)" },
                series: policies.map { policy in
                    SVGChart.Series(name: policy, values: restoreContexts.map { context in
                        timed.first { $0.policy == policy && $0.context == context && $0.fraction == fraction && $0.keep == keep }?.restore_ms
                    })
                }, scale: .logarithmic, xLabel: "context (tokens)"))
        }
        let quality = truncation.filter { $0.perplexity != nil }
        if !quality.isEmpty {
            struct Setting: Hashable, Comparable {
                let context: Int, fraction: Double, keep: Int
                static func < (a: Setting, b: Setting) -> Bool { (a.context, a.fraction, a.keep) < (b.context, b.fraction, b.keep) }
            }
            let settings = Array(Set(quality.map { Setting(context: $0.context, fraction: $0.fraction, keep: $0.keep) })).sorted()
            let oneContext = Set(settings.map(\.context)).count == 1
            let models = Array(Set(quality.map(\.model))).sorted().joined(separator: ", ")
            panels.append(SVGChart.Panel(
                title: "Perplexity after truncation relative to re-prefill (\(quality_model ?? models)"
                    + (oneContext ? ", context \(settings[0].context))" : ")"),
                yLabel: "PPL / re-prefill",
                categories: settings.map { setting in
                    (oneContext ? "" : "\(setting.context)\n") + "\(Int((setting.fraction * 100).rounded()))% dropped\nkeep \(setting.keep)"
                },
                series: policies.map { policy in
                    SVGChart.Series(name: policy, values: settings.map { setting in
                        quality.first { Setting(context: $0.context, fraction: $0.fraction, keep: $0.keep) == setting && $0.policy == policy }?
                            .perplexity_ratio_to_reprefill
                    })
                }, reference: 1, valueLabels: true))
        }
        return SVGChart(panels: panels)
    }
}
