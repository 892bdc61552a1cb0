import Foundation
import Tokenizers

/// The one RAG prompt layout: `BOS + instruction` (the prefix, a library entry of its own), one chunk per
/// passage (each ending in a newline), then `\nQuestion: ...\nAnswer:`. Every segment is tokenized on its
/// own, so a passage has the same tokens wherever it lands.
public struct RAGTemplate: Sendable {
    public var instruction = "Answer the question from the passages.\n"

    public init() {}

    public func prefix(tokenizer: any Tokenizer, bos: Int?) -> [Int] {
        (bos.map { [$0] } ?? []) + tokenizer.encode(instruction, addSpecialTokens: false)
    }

    public func query(_ question: String, tokenizer: any Tokenizer) -> [Int] {
        tokenizer.encode("\nQuestion: \(question)\nAnswer:", addSpecialTokens: false)
    }

    /// A passage's chunk, cut to at most `budget` tokens (the last one a newline).
    public func chunk(_ passage: String, tokenizer: any Tokenizer, budget: Int = .max) -> [Int] {
        let newline = Array(tokenizer.encode("\n", addSpecialTokens: false).prefix(1))
        let body = tokenizer.encode(passage, addSpecialTokens: false)
        return Array(body.prefix(max(budget - newline.count, 1))) + newline
    }

    /// The whole prompt for `passages` and `question`.
    public func prompt(passages: [String], question: String, tokenizer: any Tokenizer, bos: Int?) -> RAGPrompt {
        RAGPrompt(prefix: prefix(tokenizer: tokenizer, bos: bos), chunks: passages.map { chunk($0, tokenizer: tokenizer) },
                  query: query(question, tokenizer: tokenizer))
    }
}

/// Reads passages for `reanchor rag`: a text file whose passages are separated by blank lines, or a
/// directory whose `.txt` files are one passage each (sorted by name).
public enum PassageReader {
    public static func passages(at path: String) throws -> [String] {
        guard !path.isEmpty else { throw EngineError.invalidParameter(name: "docs", reason: "the path is empty") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw EngineError.invalidParameter(name: "docs", reason: "\(path) does not exist")
        }
        let texts: [String]
        if isDirectory.boolValue {
            let files = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".txt") }.sorted()
            texts = try files.map { name in
                let file = (path as NSString).appendingPathComponent(name)
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw EngineError.invalidParameter(name: "docs", reason: "cannot read \(file)")
                }
                return String(decoding: data, as: UTF8.self)
            }
        } else {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw EngineError.invalidParameter(name: "docs", reason: "cannot read \(path)")
            }
            texts = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n\n")
        }
        let passages = texts.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        guard !passages.isEmpty else { throw EngineError.invalidParameter(name: "docs", reason: "\(path) holds no text") }
        return passages
    }
}
