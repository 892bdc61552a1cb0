import ArgumentParser
import Foundation
import Engine
import Cache

/// Sampling flags shared by commands that generate.
struct SamplingOptions: ParsableArguments {
    @Option(help: "Tokens to generate at most.") var maxTokens = 64
    @Option(help: "Sampling temperature; 0 is greedy.") var temperature: Float = 0
    @Option(help: "Keep the k most likely tokens; 0 disables.") var topK = 0
    @Option(help: "Nucleus sampling mass in (0, 1].") var topP: Float = 1
    @Option(help: "Repetition penalty; 1 disables.") var repetitionPenalty: Float = 1
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(name: .customLong("stop"), help: "Stop when the text contains this string (repeatable).") var stopStrings: [String] = []
    @Flag(help: "Keep generating past end-of-sequence tokens.") var ignoreEOS = false

    func request() throws -> GenerationRequest {
        try GenerationRequest(maxTokens: maxTokens,
                              sampling: SamplingParameters(temperature: temperature, topK: topK, topP: topP,
                                                           repetitionPenalty: repetitionPenalty, seed: seed),
                              stopStrings: stopStrings, stopOnEOS: !ignoreEOS)
    }
}

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate", abstract: "Stream a continuation of a prompt.")

    @OptionGroup var model: ModelOptions
    @Option(help: "The prompt text.") var prompt: String
    @OptionGroup var sampling: SamplingOptions
    @Option(help: "Context window in tokens (default: the model's max_position_embeddings).") var context: Int?
    @Option(help: "On a full context: reanchor (shift survivors with one rotation), reprefill (recompute them), naive (stale rotations; experiments only), or stop.")
    var overflow = "stop"
    @Option(help: "Tokens kept at the start on overflow (attention sinks, system prompt).") var keep = 4
    @Option(help: "Fraction of the rest dropped on overflow.") var dropFraction = 0.5
    @Option(help: "Key storage: anchored (default), post, pre.") var keys = "anchored"

    func run() throws {
        let languageModel = try model.load()
        guard let storage = KeyStorage(rawValue: keys) else {
            throw ValidationError("unknown --keys '\(keys)' (one of: anchored, post, pre)")
        }
        let truncation = overflow == "stop" ? nil
            : try Truncation(policy: Truncation.policy(named: overflow), keep: keep, fraction: dropFraction)
        let generator = try Generator(languageModel: languageModel, context: context, storage: storage, overflow: truncation)
        let result = try generator.generate(prompt: prompt, request: try sampling.request()) { printFlush($0) }
        printFlush("\n")
        printError(String(format: "prompt tokens: %d, generated: %d (%@)\nTTFT: %.1f ms, prefill: %.1f tok/s, decode: %.1f tok/s",
                          result.promptTokens, result.tokens.count, result.stopReason.rawValue, result.timeToFirstToken * 1000,
                          result.prefillTokensPerSecond, result.decodeTokensPerSecond))
        if !generator.truncations.isEmpty {
            printError(String(format: "context overflowed %d times (%@): %.2f ms per truncation", generator.truncations.count,
                              overflow, generator.truncations.reduce(0, +) / Double(generator.truncations.count) * 1000))
        }
    }
}
