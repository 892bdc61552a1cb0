import Bench
import ArgumentParser
import Foundation
import Engine

/// The default job: load the embedded model, generate, and report the figures.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo", abstract: "Generate with the embedded model and show the figures.")

    @OptionGroup var model: ModelOptions
    @Option(help: "The prompt text.") var prompt = "It is a truth universally acknowledged, that"
    @Option(parsing: .unconditional, help: "Tokens to generate (>= 0).") var maxTokens = 48

    func validate() throws { _ = try request(inRun: false) }

    func request(inRun: Bool = true) throws -> GenerationRequest {
        try validated(inRun: inRun) { try GenerationRequest(maxTokens: maxTokens) }
    }

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
        let result = try generator.generate(prompt: prompt, request: try request()) { printFlush($0) }
        say(String(format: "\n\nprompt tokens %d, generated %d (%@); TTFT %.1f ms; prefill %.0f tok/s; decode %.0f tok/s",
                     result.promptTokens, result.tokens.count, result.stopReason.rawValue, result.timeToFirstToken * 1000,
                     result.prefillTokensPerSecond, result.decodeTokensPerSecond))
        try showChunkReuse(languageModel)
    }

    /// Encodes a passage once, then reuses it at two different offsets and compares with full prefill.
    func showChunkReuse(_ languageModel: LanguageModel) throws {
        let tokenizer = languageModel.tokenizer
        let bos = languageModel.config.bosTokenID.map { [$0] } ?? []
        let passage = tokenizer.encode(Self.passage, addSpecialTokens: false)
        let question = tokenizer.encode(" The captain of the ship was", addSpecialTokens: false)
        let system = tokenizer.encode("You are reading an old sea story. Answer from the passage below.\n", addSpecialTokens: false)
        let reuse = ChunkReuse(model: languageModel.model)
        let encodeStart = Clock.now()
        let slice = try reuse.encode(chunk: passage, after: bos)
        let encodeMs = (Clock.now() - encodeStart) * 1000
        say("\n--- chunk reuse: a \(passage.count)-token passage encoded once (\(String(format: "%.1f", encodeMs)) ms), placed by re-anchoring ---")
        for (label, prefix) in [("right after BOS", bos), ("after a \(system.count)-token system prompt", bos + system)] {
            let figures = try reuse.compare(prefix: prefix, chunkTokens: [passage], chunks: [slice], query: question)
            say(String(format: "%@: reused %d of %d prompt tokens; first logits in %.2f ms vs %.2f ms full prefill (%.1fx); "
                       + "max |Δlogit| %.2g; next 16 tokens: top-1 agreement %.0f%%, mean KL %.4f",
                       label, figures.reusedTokens, figures.promptTokens, figures.reuseSeconds * 1000, figures.fullSeconds * 1000,
                       figures.fullSeconds / max(figures.reuseSeconds, 1e-9), Double(figures.maxLogitDifference),
                       figures.top1Agreement * 100, figures.meanKL))
        }
        say("(identical to full prefill when nothing precedes the passage but BOS; with a system prompt in front, the passage "
            + "keeps its own context: the cross-chunk attention that selective recompute repairs)")
    }

    static let passage = """
        The ship had been three weeks at sea when the captain called the crew to the deck. He was a tall man with a         grey beard, and he spoke slowly, as if every word cost him something. The whale, he said, had been seen to         the north, and they would follow it until the sea itself gave out. No man answered him. The wind was cold,         and the sails above them cracked like whips in the dark.
        """
}
