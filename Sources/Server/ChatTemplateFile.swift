import Foundation
import Templates

/// Where the server's chat template and the special-token strings it renders come from.
public enum ChatTemplateFile {
    /// Largest `--chat-template` file read.
    static let maximumBytes = 1 << 20

    /// A Jinja template file (`--chat-template FILE`), parsed now so an unsupported construct stops startup.
    public static func load(_ path: String) throws -> ChatTemplate {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        guard let size = attributes?[.size] as? Int, let data = FileManager.default.contents(atPath: path) else {
            throw ServerError.chatTemplate(path: path, reason: "cannot be read")
        }
        guard size <= maximumBytes else { throw ServerError.chatTemplate(path: path, reason: "is larger than \(maximumBytes) bytes") }
        guard let source = String(data: data, encoding: .utf8) else { throw ServerError.chatTemplate(path: path, reason: "is not UTF-8") }
        do {
            return try ChatTemplate(source: source, name: URL(fileURLWithPath: path).lastPathComponent)
        } catch let error as TemplateError {
            throw ServerError.chatTemplate(path: path, reason: error.description)
        }
    }

    /// `bos_token` / `eos_token` of the model's `tokenizer_config.json` (nil when the file or the entry is absent).
    public static func specialTokens(modelDirectory: URL) throws -> (bos: String?, eos: String?) {
        let url = modelDirectory.appendingPathComponent("tokenizer_config.json")
        guard FileManager.default.fileExists(atPath: url.path) else { return (nil, nil) }
        let config = try TokenizerConfig(url: url)
        return (config.bosToken, config.eosToken)
    }
}
