import Bench
import ArgumentParser
import Foundation
import Engine
import Models

/// `reanchor bench ...`: speed and experiment commands that print figures and write JSON.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure speed and run the built-in experiments.",
        subcommands: [BenchDecodeCommand.self, BenchPrefillCommand.self, BatchBenchCommand.self, ServeBenchCommand.self, RopeModesCommand.self,
                      RAGBenchCommand.self, RAGServeCommand.self, RAPBenchCommand.self, BenchRemoteCommand.self, BenchLibraryKVCommand.self,
                      PlotCommand.self])
}

/// A random-weight model of a real shape, or a model directory.
struct BenchModelOptions: ParsableArguments {
    @Option(help: "Model shape: tiny, small (SmolLM-135M), 0.5b (Qwen2.5-0.5B), 1b (Llama-3.2-1B).") var shape: ModelShape = .tiny
    @Option(help: "Use this model directory instead of a random shape.") var model: String?
    @Option(help: "Weight format in memory: auto (as stored; f32 for a random --shape), f32, bf16, f16, q8, q4.")
    var weights: WeightFormat = .auto

    func load() throws -> (LlamaModel, String) {
        if let model { return (try LlamaModel(directory: URL(fileURLWithPath: model), format: weights), model) }
        let format = weights.storage(for: .f32)
        printError("building random \(shape.rawValue) model (\(format.rawValue) weights)...")
        let config = try shape.config()
        let weights = LlamaWeights.random(config: config, format: format, vocabularyFormat: weights.storage(for: .f32, role: .vocabulary))
        return (try LlamaModel(config: config, weights: weights), shape.rawValue)
    }
}

/// Shared by `bench decode` and `bench prefill`: both run a prefill then decode steps and report both.
struct SpeedOptions: ParsableArguments {
    @OptionGroup var model: BenchModelOptions
    @Option(parsing: .unconditional, help: "Prompt tokens (>= 1; with --decode-tokens, within the model's max_position_embeddings).") var promptTokens: Int?
    @Option(parsing: .unconditional, help: "Decode steps to time (>= 1).") var decodeTokens = 32
    @Flag(help: "Print a JSON object.") var json = false

    func validate() throws {
        if let promptTokens, promptTokens < 1 { throw ValidationError("--prompt-tokens must be >= 1, found \(promptTokens)") }
        if decodeTokens < 1 { throw ValidationError("--decode-tokens must be >= 1, found \(decodeTokens)") }
    }

    func run(defaultPrompt: Int) throws {
        let prompt = promptTokens ?? defaultPrompt
        let (llama, label) = try model.load()
        // The benchmark's cache holds the prompt, the decode steps and one more token.
        let window = llama.config.maxPositionEmbeddings
        let (sum, overflow) = prompt.addingReportingOverflow(decodeTokens)
        guard !overflow, sum < window else {
            throw OptionError("--prompt-tokens \(prompt) plus --decode-tokens \(decodeTokens) must be below the model's window of \(window) tokens")
        }
        let report = try SpeedBenchmark(model: llama, label: label)
            .run(promptTokens: prompt, decodeTokens: decodeTokens) { printError("  \($0)") }
        if json {
            try printJSON(report)
            return
        }
        say(String(format: """
            shape %@, %@ weights: %.1fM parameters, %.1f MB weights read per token (BLAS %@, %d threads; kernels %@, GEMV on %d cores)
            prefill %d tokens: %.1f tok/s, %.1f GFLOP/s (%.0f%% of 430 GFLOP/s)
            decode %d tokens: %.2f tok/s, %.1f GB/s (%.0f%% of the %.1f GB/s read bandwidth measured now; weights at %.0f%% of 45 GB/s)
            """, report.shape, report.weights, Double(report.parameters) / 1e6, Double(report.weight_bytes_per_token) / 1e6,
            report.blas_core, report.blas_threads, report.kernel_path, report.gemv_threads, report.prompt_tokens, report.prefill_tok_s, report.prefill_gflop_s,
            report.prefill_fraction_of_430_gflop_s * 100, report.decode_tokens, report.decode_tok_s, report.decode_gb_s,
            report.decode_fraction_of_measured_bandwidth * 100, report.measured_read_gb_s, report.decode_fraction_of_45_gb_s * 100))
    }
}

struct BenchDecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "decode", abstract: "Decode speed (after a 128-token prompt).")
    @OptionGroup var options: SpeedOptions
    func run() throws { try options.run(defaultPrompt: 128) }
}

struct BenchPrefillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prefill", abstract: "Prefill speed (512-token prompt).")
    @OptionGroup var options: SpeedOptions
    func run() throws { try options.run(defaultPrompt: 512) }
}

/// Prints `value` as one line of sorted-key JSON on standard output.
func printJSON<T: Encodable>(_ value: T) throws {
    printFlush(try jsonText(value) + "\n")
}

func jsonText<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
