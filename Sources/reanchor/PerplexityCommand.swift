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
        window after the first are scored. perplexity = exp(mean negative log-likelihood). The file needs one \
        token to score: 1 token when the model has BOS (scored after BOS), else 2.
        """)

    @OptionGroup var model: ModelOptions
    @Option(help: "UTF-8 text file to score.") var file: String
    @Option(parsing: .unconditional, help: "Context N in tokens, BOS included: 2 to the model's max_position_embeddings (the default).") var context: Int?
    @Option(parsing: .unconditional, help: "Window stride in tokens, 1 to the window (default: the window, no overlap).") var stride: Int?
    @Option(parsing: .unconditional, help: "Score at most this many tokens of the file (>= 1).") var limit: Int?
    @Flag(help: "Print a JSON object instead of text.") var json = false

    func validate() throws {
        if let context, context < 2 { throw ValidationError("--context must be >= 2, found \(context)") }
        if let stride, stride < 1 { throw ValidationError("--stride must be >= 1, found \(stride)") }
        if let limit, limit < 1 { throw ValidationError("--limit must be >= 1, found \(limit)") }
    }

    func run() throws {
        guard let data = FileManager.default.contents(atPath: file) else { throw OptionError("cannot read --file \(file)") }
        let text = String(decoding: data, as: UTF8.self)
        let languageModel = try model.load()
        let window = try validated { try ContextWindow(requested: context, modelWindow: languageModel.config.usableWindow) }
        let evaluator = try validated { try PerplexityEvaluator(model: languageModel.model, context: window.tokens, stride: stride) }
        var tokens = languageModel.tokenizer.encode(text, addSpecialTokens: false)
        if let limit { tokens = Array(tokens.prefix(limit)) }
        guard tokens.count >= evaluator.minimumTokens else {
            throw OptionError("--file \(file): \(tokens.count) tokens\(limit == nil ? "" : " (after --limit)"), but perplexity needs at least "
                                  + "\(evaluator.minimumTokens): one token to score"
                                  + (evaluator.minimumTokens == 1 ? " after BOS" : " after the first (this model has no BOS)"))
        }
        let bar = ProgressBar(label: "perplexity")
        let result = try evaluator.evaluate(tokens) { bar.update($0, of: $1) }
        if json {
            try printJSON(result)
        } else {
            say(String(format: "perplexity %.4f over %d tokens (context %d, stride %d, %d windows, %.1f s)",
                         result.perplexity, result.tokens, result.context, result.stride, result.windows, result.seconds))
        }
    }
}
