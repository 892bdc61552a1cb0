import Foundation
import Models
import Tokenizers

/// A model and its tokenizer, loaded from a Hugging Face model directory.
public final class LanguageModel {
    public let directory: URL
    public let model: LlamaModel
    public let tokenizer: BPETokenizer

    public init(directory: URL) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw EngineError.modelDirectory(path: directory.path, reason: "does not exist or is not a directory")
        }
        self.directory = directory
        model = try LlamaModel(directory: directory)
        tokenizer = try BPETokenizer(contentsOf: directory.appendingPathComponent("tokenizer.json"))
        guard tokenizer.vocabularySize <= model.config.vocabularySize else {
            throw EngineError.modelDirectory(path: directory.path,
                                             reason: "tokenizer has \(tokenizer.vocabularySize) tokens but the model only \(model.config.vocabularySize)")
        }
    }

    public var config: ModelConfig { model.config }
}
