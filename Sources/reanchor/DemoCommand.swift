import ArgumentParser
import Foundation
import Engine

/// The default job: load the embedded model, generate, and report the figures.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo", abstract: "Generate with the embedded model and show the figures.")

    @OptionGroup var model: ModelOptions
    @Option(help: "The prompt text.") var prompt = "It is a truth universally acknowledged, that"
    @Option(help: "Tokens to generate.") var maxTokens = 48

    func run() throws {
        let start = Clock.now()
        let languageModel = try model.load()
        let config = languageModel.config
        say(String(format: "model: %@ (%@, %d layers, hidden %d, %d/%d heads, vocab %d, %.1fM parameters), loaded in %.0f ms",
                     languageModel.directory.lastPathComponent, config.architecture.rawValue, config.layers, config.hiddenSize,
                     config.heads, config.kvHeads, config.vocabularySize, Double(config.parameterCount) / 1e6, (Clock.now() - start) * 1000))
        let generator = try Generator(languageModel: languageModel)
        say("\n--- generation (greedy) ---")
        printFlush(prompt)
        let result = try generator.generate(prompt: prompt, request: try GenerationRequest(maxTokens: maxTokens)) { printFlush($0) }
        say(String(format: "\n\nprompt tokens %d, generated %d (%@); TTFT %.1f ms; prefill %.0f tok/s; decode %.0f tok/s",
                     result.promptTokens, result.tokens.count, result.stopReason.rawValue, result.timeToFirstToken * 1000,
                     result.prefillTokensPerSecond, result.decodeTokensPerSecond))
    }
}
