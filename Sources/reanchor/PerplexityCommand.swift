import ArgumentParser
import Foundation
import Engine

struct PerplexityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perplexity",
        abstract: "Perplexity of a text file.",
        discussion: """
        The file is encoded without special tokens and cut into consecutive windows of N-1 tokens; BOS is \
        prepended to each window when the model has one; every window token is scored given its predecessors \
        in the window. With --stride S below the window, windows overlap and only the last S tokens of each \
        window after the first are scored. perplexity = exp(mean negative log-likelihood).
        """)

    @OptionGroup var model: ModelOptions
    @Option(help: "UTF-8 text file to score.") var file: String
    @Option(help: "Context N in tokens, BOS included (default: the model's max_position_embeddings).") var context: Int?
    @Option(help: "Window stride in tokens (default: the window, no overlap).") var stride: Int?
    @Option(help: "Score at most this many tokens of the file.") var limit: Int?
    @Flag(help: "Print a JSON object instead of text.") var json = false

    func run() throws {
        guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read --file \(file)") }
        let text = String(decoding: data, as: UTF8.self)
        let languageModel = try model.load()
        var tokens = languageModel.tokenizer.encode(text, addSpecialTokens: false)
        if let limit {
            guard limit >= 2 else { throw ValidationError("--limit must be >= 2") }
            tokens = Array(tokens.prefix(limit))
        }
        let evaluator = try PerplexityEvaluator(model: languageModel.model, context: context ?? languageModel.config.maxPositionEmbeddings,
                                                stride: stride)
        let bar = ProgressBar(label: "perplexity")
        let result = try evaluator.evaluate(tokens) { bar.update($0, of: $1) }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            printFlush(String(decoding: try encoder.encode(result), as: UTF8.self) + "\n")
        } else {
            say(String(format: "perplexity %.4f over %d tokens (context %d, stride %d, %d windows, %.1f s)",
                         result.perplexity, result.tokens, result.context, result.stride, result.windows, result.seconds))
        }
    }
}
