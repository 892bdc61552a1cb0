import ArgumentParser
import Bench
import Foundation
import Kernels
import Models
import Pruning
import Tokenizers

/// `reanchor bench rap`: RoPE-aligned pruning's savings and perplexity per keep ratio, and its speed.
struct RAPBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rap",
        abstract: "RoPE-aligned pruning: KV bytes, attention params/FLOPs, perplexity and attention time per keep ratio.",
        discussion: """
        Quality: --model is calibrated on the first --tokens tokens of --calibration, pruned at every --keep ratio \
        with each --method (rap with each pair score, energy and output; channel, the RoPE-blind baseline at the \
        same q/k budget), and scored on up to --limit tokens of --text at the model's window. \
        Timing: random-weight --timing-shapes models (bf16 weights) pruned at every ratio, with --context cached \
        tokens: the attention kernel for a 256-query prefill block and one decode query (all layers), and the whole \
        model's prefill and decode speed there.
        """)

    @Option(help: "Trained model directories, comma-separated.", transform: { $0.split(separator: ",").map(String.init) }) var model: [String]
    @Option(help: "Keep ratios, comma-separated, each in (0, 1] (1 is always added).", transform: doubleList) var keep: [Double] = [1, 0.9, 0.8, 0.7, 0.5]
    @Option(help: "Pruning methods, comma-separated: rap, channel.", transform: methodList) var method: [PruningMethod] = PruningMethod.allCases
    @Option(help: "Pair scores of rap, comma-separated: energy, output.", transform: scoreList) var score: [PairScore] = PairScore.allCases
    @Option(help: "UTF-8 calibration texts: one, or one per model (comma-separated).", transform: { $0.split(separator: ",").map(String.init) })
    var calibration: [String]
    @Option(help: "UTF-8 evaluation texts: one, or one per model (comma-separated); a model's evaluation starts after its calibration tokens when both are the same file.",
            transform: { $0.split(separator: ",").map(String.init) })
    var text: [String]
    @Option(parsing: .unconditional, help: "Calibration tokens (default 512, capped by each model's window).") var tokens: Int?
    @Option(parsing: .unconditional, help: "Evaluation tokens scored per model (>= 2).") var limit = 16384
    @Option(help: "Random-weight shapes timed, comma-separated (empty: no timing).", transform: { $0.split(separator: ",").map(String.init) })
    var timingShapes: [String] = ["0.5b", "1b"]
    @Option(parsing: .unconditional, help: "Cached tokens for the timing (> 256).") var context = 4096
    @Option(help: "Write the JSON report here.") var json: String?
    @Option(help: "Write an SVG figure here.") var plot: String?

    func validate() throws {
        for (name, list) in [("--calibration", calibration), ("--text", text)] where list.count != 1 && list.count != model.count {
            throw ValidationError("\(name) must list one file or one per --model (\(model.count)), found \(list.count)")
        }
        guard limit >= 2 else { throw ValidationError("--limit must be >= 2, found \(limit)") }
        guard context > 256 else { throw ValidationError("--context must be > 256, found \(context)") }
        for shape in timingShapes where ModelShape(rawValue: shape) == nil {
            throw ValidationError("--timing-shapes: unknown shape \(shape) (tiny, small, 0.5b, 1b)")
        }
    }

    func run() throws {
        let experiment = try validated { try RAPExperiment(keeps: keep, scores: score, methods: method) }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("reanchor-rap-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        var quality: [RAPExperiment.QualityRow] = []
        for (index, path) in model.enumerated() {
            let calibrationFile = calibration[calibration.count == 1 ? 0 : index]
            let textFile = text[text.count == 1 ? 0 : index]
            guard let textData = FileManager.default.contents(atPath: textFile) else { throw OptionError("cannot read --text \(textFile)") }
            let directory = URL(fileURLWithPath: path)
            let config = try ModelConfig(contentsOf: directory.appendingPathComponent("config.json"))
            let calibrationIDs = try CalibrationText.tokens(file: calibrationFile, directory: directory, config: config,
                                                            count: min(tokens ?? 512, config.maxPositionEmbeddings))
            let tokenizer = try BPETokenizer(contentsOf: directory.appendingPathComponent("tokenizer.json"))
            let skipped = calibrationFile == textFile ? calibrationIDs.count : 0
            let evaluation = Array(tokenizer.encode(String(decoding: textData, as: UTF8.self), addSpecialTokens: false)
                .dropFirst(skipped).prefix(limit))
            quality += try experiment.measureQuality(directory: directory, label: directory.lastPathComponent, calibration: calibrationIDs,
                                                     evaluation: evaluation, scratch: scratch) { printError("  \($0)") }
        }
        var timing: [RAPTiming.Row] = []
        var timer = RAPTiming()
        timer.context = context
        for name in timingShapes {
            guard let shape = ModelShape(rawValue: name) else { continue }
            timing += try timer.measure(shape: shape, keeps: experiment.keeps, format: .bf16) { printError("  \($0)") }
        }
        func names(_ files: [String]) -> String { files.map { URL(fileURLWithPath: $0).lastPathComponent }.joined(separator: ", ") }
        let report = RAPReport(calibration: names(calibration), evaluation: names(text), quality: quality, timing: timing)
        printTables(report)
        if let json { try Data((try jsonText(report) + "\n").utf8).write(to: URL(fileURLWithPath: json)) }
        if let plot { try Data(report.chart().render().utf8).write(to: URL(fileURLWithPath: plot)) }
    }

    func printTables(_ report: RAPReport) {
        say("\nQuality: model, method, keep, pairs, v channels, KV B/token (ratio), attn params (ratio), attn MFLOP/token (ratio) @ctx, PPL (ratio)")
        for r in report.quality {
            let lone = r.lone_fraction.map { $0 > 0 ? String(format: "  (%.0f%% of kept q/k dims lone)", $0 * 100) : "" } ?? ""
            say("  " + r.model.padding(toLength: 17, withPad: " ", startingAt: 0) + r.method.padding(toLength: 11, withPad: " ", startingAt: 0)
                + String(format: " %.2f %3d %3d %7d (%.3f) %9d (%.3f) %8.2f (%.3f) @%d %8.3f (%.3f)", r.keep, r.kept_pairs, r.value_channels,
                         r.kv_bytes_per_token, r.kv_bytes_ratio, r.attention_params, r.attention_params_ratio,
                         r.attention_flops_per_token / 1e6, r.attention_flops_ratio, r.context, r.perplexity, r.perplexity_ratio) + lone)
        }
        say("\nTiming: shape, keep, dk, dv, KV B/token, attention ms prefill block (ratio), decode (ratio), prefill tok/s, decode tok/s")
        for r in report.timing {
            say("  " + r.shape.padding(toLength: 6, withPad: " ", startingAt: 0)
                + String(format: " %.2f %3d %3d %7d %9.2f (%.3f) %7.3f (%.3f) %8.1f %7.2f", r.keep, r.key_dimension, r.value_dimension,
                         r.kv_bytes_per_token, r.prefill_attention_ms, r.prefill_attention_ratio, r.decode_attention_ms,
                         r.decode_attention_ratio, r.prefill_tok_s, r.decode_tok_s))
        }
    }
}

@Sendable private func methodList(_ text: String) throws -> [PruningMethod] {
    try text.split(separator: ",").map { name in
        guard let method = PruningMethod(rawValue: String(name)) else { throw ValidationError("--method: unknown \(name) (rap, channel)") }
        return method
    }
}

@Sendable private func scoreList(_ text: String) throws -> [PairScore] {
    try text.split(separator: ",").map { name in
        guard let score = PairScore(rawValue: String(name)) else { throw ValidationError("--score: unknown \(name) (energy, output)") }
        return score
    }
}
