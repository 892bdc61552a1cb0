import ArgumentParser
import Foundation
import Models
import Pruning
import Tokenizers

/// `reanchor prune`: a RoPE-aligned pruned checkpoint (RAP), or its RoPE-blind channel baseline, from a model
/// and a calibration text.
struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Write a RoPE-aligned pruned checkpoint: whole RoPE pairs of q/k and value channels removed per KV head.",
        discussion: """
        The first --tokens tokens of --calibration (BOS first when the model has one) run through the model; per \
        layer and KV head the RoPE pairs (dims i and i + head_dim/2) are scored (--score energy: mean |q_pair| \
        times mean |k_pair|; output: the attention-output change when the pair is removed) and the best \
        round(keep * head_dim/2) kept, each at its original frequency; value channels likewise by their output \
        energy. --method channel (the RoPE-blind baseline) instead keeps the same number of q/k dims as single \
        channels, scored by mean |q_c| times mean |k_c| on the unrotated projections; a channel whose partner is \
        dropped is kept unrotated. The checkpoint in --out is a normal safetensors model with smaller \
        q/k/v/o_proj shapes and a "rope_aligned_pruning" field in config.json listing what was kept.
        """)

    @Option(help: "Hugging Face model directory (unpruned).") var model: String
    @Option(help: "Fraction of RoPE pairs and value channels each head keeps, in (0, 1].") var keep: Double
    @Option(help: "UTF-8 calibration text.") var calibration: String
    @Option(parsing: .unconditional, help: "Calibration tokens (2 to the model's window; default 512 or the window).") var tokens: Int?
    @Option(help: "Output directory.") var out: String
    @Option(help: "Method: rap (whole RoPE pairs) or channel (single q/k channels, RoPE-blind).") var method: PruningMethod = .rap
    @Option(help: "Pair score of --method rap: energy or output (channel has its own energy score).") var score: PairScore = .energy

    func validate() throws {
        guard keep > 0, keep <= 1 else { throw ValidationError("--keep must be in (0, 1], found \(keep)") }
        if let tokens, tokens < 2 { throw ValidationError("--tokens must be >= 2, found \(tokens)") }
    }

    func run() throws {
        let directory = URL(fileURLWithPath: model)
        let llama = try LlamaModel(directory: directory, format: .f32)
        let ids = try CalibrationText.tokens(file: calibration, directory: directory, config: llama.config, count: tokens)
        printError("calibrating on \(ids.count) tokens...")
        let plan = try PruningPlan(model: llama, calibration: try CalibrationProjections(model: llama, tokens: ids), keep: keep,
                                   score: score, method: method)
        try PrunedCheckpoint.write(source: directory, config: llama.config, pruning: plan.pruning, to: URL(fileURLWithPath: out))
        let pruned = try LlamaModel(directory: URL(fileURLWithPath: out), format: .f32)
        let d = llama.config.headDimension
        say("wrote \(out): \(plan.pruning.keptKeyChannels) of \(d) q/k dims (\(plan.pruning.slotsPerHead) rotation slots) and "
            + "\(plan.pruning.valueDimension) of \(d) value channels per head; KV bytes/token \(llama.cacheGeometry(capacity: 1).bytesPerToken) -> "
            + "\(pruned.cacheGeometry(capacity: 1).bytesPerToken)")
    }
}

extension PairScore: ExpressibleByArgument {}
extension PruningMethod: ExpressibleByArgument {}

/// The calibration tokens of a text file for a model directory's tokenizer.
enum CalibrationText {
    /// BOS (when the model has one) then the file's first tokens: `count` in all (default: 512, capped by the window).
    static func tokens(file: String, directory: URL, config: ModelConfig, count: Int?) throws -> [Int] {
        guard let data = FileManager.default.contents(atPath: file) else { throw OptionError("cannot read \(file)") }
        let tokenizer = try BPETokenizer(contentsOf: directory.appendingPathComponent("tokenizer.json"))
        let window = config.maxPositionEmbeddings
        let wanted = count ?? min(512, window)
        guard wanted >= 2, wanted <= window else {
            throw OptionError("--tokens must be 2 to the model's window \(window), found \(wanted)")
        }
        let ids = (config.bosTokenID.map { [$0] } ?? []) + tokenizer.encode(String(decoding: data, as: UTF8.self), addSpecialTokens: false)
        guard ids.count >= wanted else { throw OptionError("\(file) holds \(ids.count) tokens, fewer than the \(wanted) asked for") }
        return Array(ids.prefix(wanted))
    }
}
