import ArgumentParser
import Foundation
import Engine
import Cache

/// Sampling flags shared by commands that generate. The limits live in `GenerationRequest` and
/// `SamplingParameters`; `validate()` builds them, so a bad value is reported before the model loads.
struct SamplingOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Tokens to generate at most (>= 0; generation also ends at a full context unless --overflow truncates).")
    var maxTokens = 64
    @Option(parsing: .unconditional, help: "Sampling temperature >= 0; 0 (or below 1e-6) is greedy.") var temperature: Float = 0
    @Option(parsing: .unconditional, help: "Keep the k most likely tokens (>= 0); 0 disables.") var topK = 0
    @Option(parsing: .unconditional, help: "Nucleus sampling mass in (0, 1].") var topP: Float = 1
    @Option(parsing: .unconditional, help: "Repetition penalty > 0; 1 disables.") var repetitionPenalty: Float = 1
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(name: .customLong("stop"), help: "Stop when the text contains this string (repeatable).") var stopStrings: [String] = []
    @Flag(help: "Keep generating past end-of-sequence tokens.") var ignoreEOS = false

    func validate() throws { _ = try request(inRun: false) }

    func request(inRun: Bool = true) throws -> GenerationRequest {
        try validated(inRun: inRun) {
            try GenerationRequest(maxTokens: maxTokens,
                                  sampling: SamplingParameters(temperature: temperature, topK: topK, topP: topP,
                                                               repetitionPenalty: repetitionPenalty, seed: seed),
                                  stopStrings: stopStrings, stopOnEOS: !ignoreEOS)
        }
    }
}

/// What happens when the context fills: `--context`, `--overflow`, `--keep`, `--drop-fraction`, `--keys`.
struct ContextOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Context window in tokens, 2 to the model's max_position_embeddings (the default).") var context: Int?
    @Option(help: "On a full context: reanchor (shift survivors with one rotation), reprefill (recompute them), naive (stale rotations; experiments only), or stop.")
    var overflow: OverflowOption = .stop
    @Option(parsing: .unconditional, help: "Tokens kept at the start on overflow (attention sinks, system prompt), >= 0.") var keep = 4
    @Option(parsing: .unconditional, help: "Fraction of the rest dropped on overflow, in (0, 1).") var dropFraction = 0.5
    @Option(help: "Key storage: anchored (rotated plus canonical keys), post (rotated at write), pre (canonical, rotated at every step).") var keys: KeyStorage = .anchored

    static let optionNames = ["fraction": "drop-fraction"]

    func validate() throws {
        if let context, context < 2 { throw ValidationError("--context must be >= 2, found \(context)") }
        _ = try validated(options: Self.optionNames, inRun: false) { try Truncation(keep: keep, fraction: dropFraction) }
    }

    /// The truncation for `--overflow`, or nil for `stop`.
    func truncation() throws -> Truncation? {
        try overflow.policy.map { policy in
            try validated(options: Self.optionNames) { try Truncation(policy: policy, keep: keep, fraction: dropFraction) }
        }
    }

    /// A generator over `languageModel` with these options; the context is checked against the model's window.
    func generator(_ languageModel: LanguageModel) throws -> Generator {
        let window = try validated { try ContextWindow(requested: context, modelWindow: languageModel.config.usableWindow) }
        let truncation = try truncation()
        return try validated(options: Self.optionNames) {
            try Generator(languageModel: languageModel, context: window.tokens, storage: keys, overflow: truncation)
        }
    }
}

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate", abstract: "Stream a continuation of a prompt.")

    @OptionGroup var model: ModelOptions
    @Option(help: "The prompt text.") var prompt: String
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var contextOptions: ContextOptions

    func run() throws {
        let request = try sampling.request()
        let languageModel = try model.load()
        let generator = try contextOptions.generator(languageModel)
        let result = try validated { try generator.generate(prompt: prompt, request: request) { printFlush($0) } }
        printFlush("\n")
        printError(String(format: "prompt tokens: %d, generated: %d (%@)\nTTFT: %.1f ms, prefill: %.1f tok/s, decode: %.1f tok/s",
                          result.promptTokens, result.tokens.count, result.stopReason.rawValue, result.timeToFirstToken * 1000,
                          result.prefillTokensPerSecond, result.decodeTokensPerSecond))
        if result.stopReason == .contextFull {
            printError("the \(generator.context)-token context is full; --overflow reanchor (or reprefill) generates past it")
        }
        if !generator.truncations.isEmpty {
            printError(String(format: "context overflowed %d times (%@): %.2f ms per truncation", generator.truncations.count,
                              contextOptions.overflow.rawValue,
                              generator.truncations.reduce(0, +) / Double(generator.truncations.count) * 1000))
        }
    }
}
