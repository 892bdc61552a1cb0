import ArgumentParser
import Foundation
import Engine
import Models

enum BenchKind: String, ExpressibleByArgument, CaseIterable {
    case decode, prefill
}

extension ModelShape: ExpressibleByArgument {}

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure speed on random-weight models of real shapes (or a model directory).")

    @Argument(help: "What to measure: decode or prefill (both are reported).") var kind: BenchKind = .decode
    @Option(help: "Model shape: tiny, small, 0.5b (Qwen2.5-0.5B), 1b (Llama-3.2-1B).") var shape: ModelShape = .tiny
    @Option(help: "Use this model directory instead of a random shape.") var model: String?
    @Option(help: "Prompt tokens (default: 512 for prefill, 128 for decode).") var promptTokens: Int?
    @Option(help: "Decode steps to time.") var decodeTokens = 32
    @Flag(help: "Print a JSON object.") var json = false

    func validate() throws {
        if let promptTokens, promptTokens < 1 { throw ValidationError("--prompt-tokens must be >= 1") }
        if decodeTokens < 1 { throw ValidationError("--decode-tokens must be >= 1") }
    }

    func run() throws {
        let llama: LlamaModel
        let label: String
        if let model {
            llama = try LlamaModel(directory: URL(fileURLWithPath: model))
            label = model
        } else {
            printError("building random \(shape.rawValue) model...")
            let config = try shape.config()
            llama = LlamaModel(config: config, weights: .random(config: config))
            label = shape.rawValue
        }
        let prompt = promptTokens ?? (kind == .prefill ? 512 : 128)
        let report = try SpeedBenchmark(model: llama, label: label)
            .run(promptTokens: prompt, decodeTokens: decodeTokens) { printError("  \($0)") }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            printFlush(String(decoding: try encoder.encode(report), as: UTF8.self) + "\n")
        } else {
            say(String(format: """
                shape %@: %.1fM parameters, %.1f MB weights read per token (BLAS %@, %d threads)
                prefill %d tokens: %.1f tok/s, %.1f GFLOP/s (%.0f%% of 430 GFLOP/s)
                decode %d tokens: %.2f tok/s, %.1f GB/s (%.0f%% of the %.1f GB/s read bandwidth measured now; weights at %.0f%% of 45 GB/s)
                """, report.shape, Double(report.parameters) / 1e6, Double(report.weight_bytes_per_token) / 1e6,
                report.blas_core, report.blas_threads, report.prompt_tokens, report.prefill_tok_s, report.prefill_gflop_s,
                report.prefill_fraction_of_430_gflop_s * 100, report.decode_tokens, report.decode_tok_s, report.decode_gb_s,
                report.decode_fraction_of_measured_bandwidth * 100, report.measured_read_gb_s, report.decode_fraction_of_45_gb_s * 100))
        }
    }
}
