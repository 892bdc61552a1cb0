import ArgumentParser
import Foundation
import Engine
import Models

/// `--model DIR`, defaulting to the embedded books-5m model shipped in `models/books-5m`.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Hugging Face model directory (config.json, *.safetensors, tokenizer.json). Default: the embedded models/books-5m.")
    var model: String?
    @Option(name: .long, help: "Weight format in memory: auto (as the checkpoint stores each matrix), f32, bf16, f16, q8, q4 (4-bit projections, 8-bit embeddings and head).")
    var weights: WeightFormat = .auto

    init() {}

    init(model: String?, weights: WeightFormat = .auto) {
        self.model = model
        self.weights = weights
    }

    /// The directory to load: `--model`, else `$REANCHOR_MODEL`, else models/books-5m beside the
    /// working directory or the executable's checkout.
    func directory() throws -> URL {
        if let model { return URL(fileURLWithPath: model) }
        if let fromEnvironment = ProcessInfo.processInfo.environment["REANCHOR_MODEL"] { return URL(fileURLWithPath: fromEnvironment) }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let candidates = [
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("models/books-5m"),
            executable.deletingLastPathComponent().appendingPathComponent("../../../models/books-5m").standardized,
            executable.deletingLastPathComponent().appendingPathComponent("../../models/books-5m").standardized,
        ]
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0.appendingPathComponent("config.json").path) }) else {
            throw OptionError("no --model given and the embedded model was not found at models/books-5m (run from the repository root)")
        }
        return found
    }

    func load() throws -> LanguageModel { try LanguageModel(directory: try directory(), weights: weights) }
}

/// Writes to standard error.
func printError(_ text: String, terminator: String = "\n") {
    FileHandle.standardError.write(Data((text + terminator).utf8))
}

/// Writes text to standard output at once (for streaming).
func printFlush(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}

/// Writes a line to standard output at once, so it interleaves correctly with streamed text.
func say(_ text: String) { printFlush(text + "\n") }
