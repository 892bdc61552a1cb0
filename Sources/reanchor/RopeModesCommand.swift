import Bench
import ArgumentParser
import Foundation
import Engine
import Models

/// `reanchor bench rope-modes`: cost of post / pre / anchored key storage, and truncation on overflow.
struct RopeModesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rope-modes",
        abstract: "Compare key-storage modes (cost) and overflow policies (restore time, perplexity).",
        discussion: """
        Cost runs on --model or a random --shape at each --contexts length. Truncation fills a context with real \
        text, drops 25/50/75% (keeping 0 or 4 sink tokens), restores the cache by re-anchoring, re-prefilling or \
        the naive stale slice, and scores the next 256 tokens; it runs on --quality-model (default: the \
        embedded books-5m) with --text, and is timed on the cost model at every context.
        """)

    @OptionGroup var model: BenchModelOptions
    @Option(help: "Comma-separated context lengths, each >= 64 and within the cost model's window.", transform: integerList)
    var contexts: [Int] = [1024, 2048, 4096, 8192]
    @Option(help: "Trained model for the perplexity part (default: the embedded books-5m).") var qualityModel: String?
    @Option(help: "UTF-8 text for the perplexity part (default: ../shared/corpora/gutenberg/pg1342.txt).") var text: String?
    @Option(help: "Write the JSON report here.") var json: String?
    @Option(help: "Write an SVG figure here.") var plot: String?

    func validate() throws {
        _ = try validated(inRun: false) { try RopeModesExperiment(contexts: contexts) }
    }

    func run() throws {
        let lengths = contexts
        let experiment = try validated { try RopeModesExperiment(contexts: lengths) }
        let (costModel, costLabel) = try model.load()
        for length in lengths {
            _ = try validated(options: ["context": "contexts"]) {
                try ContextWindow(requested: length, modelWindow: costModel.config.usableWindow)
            }
        }
        let bar = ProgressBar(label: "rope-modes")
        var step = 0
        let totalSteps = lengths.count * 3 * experiment.repeats + lengths.count * 18 + 18
        let progress: (String) -> Void = { detail in
            step += 1
            bar.update(min(step, totalSteps), of: totalSteps, detail: String(detail.prefix(60)).padding(toLength: 60, withPad: " ", startingAt: 0))
        }
        let cost = try experiment.measureCost(model: costModel, progress: progress)
        var truncation = try experiment.measureTruncation(model: costModel, label: costLabel, contexts: lengths, text: nil, progress: progress)

        let qualityOptions = ModelOptions(model: qualityModel, weights: model.weights)
        let qualityDirectory = try qualityOptions.directory()
        let quality = try qualityOptions.load()
        let textPath = text ?? "../shared/corpora/gutenberg/pg1342.txt"
        guard let data = FileManager.default.contents(atPath: textPath) else {
            throw OptionError("cannot read --text \(textPath) (give a UTF-8 text file for the perplexity part)")
        }
        let tokens = quality.tokenizer.encode(String(decoding: data, as: UTF8.self), addSpecialTokens: false)
        let qualityContext = quality.config.maxPositionEmbeddings
        // Skip the first 2,000 tokens (front matter) so the context is real prose.
        truncation += try experiment.measureTruncation(model: quality.model, label: qualityDirectory.lastPathComponent,
                                                       contexts: [qualityContext], text: Array(tokens.dropFirst(2000)), progress: progress)
        bar.update(totalSteps, of: totalSteps, detail: "done".padding(toLength: 60, withPad: " ", startingAt: 0))

        let report = RopeModesExperiment.Report(cost_model: costLabel, quality_model: qualityDirectory.lastPathComponent,
                                                cost: cost, truncation: truncation)
        printTables(report)
        if let json { try Data((try jsonText(report) + "\n").utf8).write(to: URL(fileURLWithPath: json)) }
        if let plot { try Data(report.chart().render().utf8).write(to: URL(fileURLWithPath: plot)) }
    }

    func printTables(_ report: RopeModesExperiment.Report) {
        say("\nCost (\(report.cost_model)): mode, context, TTFT ms, decode tok/s, TTFT / post, decode / post")
        for row in report.cost {
            say("  " + row.mode.padding(toLength: 9, withPad: " ", startingAt: 0)
                + String(format: " %6d %10.1f %10.2f %8.3f %8.3f", row.context, row.ttft_ms, row.decode_tok_s,
                         row.ttft_ratio_to_post, row.decode_ratio_to_post))
        }
        say("\nTruncation: model, policy, context, fraction, keep, restore ms, speed-up vs re-prefill, PPL, PPL / re-prefill")
        for row in report.truncation {
            let perplexity = row.perplexity.map { String(format: "%9.2f", $0) } ?? "        -"
            let ratio = row.perplexity_ratio_to_reprefill.map { String(format: "%7.3f", $0) } ?? "      -"
            say("  " + row.model.padding(toLength: 16, withPad: " ", startingAt: 0) + " " + row.policy.padding(toLength: 9, withPad: " ", startingAt: 0)
                + String(format: " %6d %5.2f %3d %10.3f %9.1fx ", row.context, row.fraction, row.keep, row.restore_ms,
                         row.restore_speedup_vs_reprefill) + perplexity + " " + ratio)
        }
    }
}
