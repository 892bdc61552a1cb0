import Documents
import Foundation
import Models
import Tokenizers

/// A model and its tokenizer, loaded from a Hugging Face model directory.
public final class LanguageModel {
    public let directory: URL
    public let model: LlamaModel
    public let tokenizer: BPETokenizer
    /// Model and tokenizer identity for the document library: every config field, the stored dtype, the
    /// in-memory weight format (a bf16 model and its f32 widening give K/V that differ in the last bits), a
    /// SHA-256 of every weight byte (cached on disk per file version, see `WeightDigestCache`) and the tokenizer.
    public let fingerprint: Fingerprint

    /// - tokenizerDirectory: where tokenizer.json is, when not beside the weights.
    /// - digestCache: where weight digests are remembered between runs.
    /// - weights: the format the weight matrices are kept in (`auto`: as the checkpoint stores them).
    public init(directory: URL, tokenizerDirectory: URL? = nil, digestCache: WeightDigestCache = .standard,
                weights: WeightFormat = .auto) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw EngineError.modelDirectory(path: directory.path, reason: "does not exist or is not a directory")
        }
        self.directory = directory
        // One checkpoint, loaded and hashed: the fingerprint describes the weights this model holds.
        let config = try ModelConfig(contentsOf: directory.appendingPathComponent("config.json"))
        let checkpoint = try Checkpoint(directory: directory)
        model = try LlamaModel(config: config, weights: try LlamaWeights(checkpoint: checkpoint, config: config, format: weights))
        let tokenizerURL = (tokenizerDirectory ?? directory).appendingPathComponent("tokenizer.json")
        tokenizer = try BPETokenizer(contentsOf: tokenizerURL)
        let description = model.config.canonicalDescription + "\ndtype=\(checkpoint.dominantDType.rawValue)"
            + "\nweights=\(model.weights.formatDescription)"
        fingerprint = Fingerprint(modelDescription: description,
                                  weightDigest: checkpoint.weightDigest(cache: digestCache),
                                  tokenizer: FileManager.default.contents(atPath: tokenizerURL.path) ?? Data())
        guard tokenizer.vocabularySize <= model.config.vocabularySize else {
            throw EngineError.modelDirectory(path: directory.path,
                                             reason: "tokenizer has \(tokenizer.vocabularySize) tokens but the model only \(model.config.vocabularySize)")
        }
    }

    public var config: ModelConfig { model.config }
}
