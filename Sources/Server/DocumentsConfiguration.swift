/// How the documents API chunks and prefills (`reanchor serve --chunk-tokens`, `--background-tokens`).
public struct DocumentsConfiguration: Sendable {
    /// Most tokens in one chunk (text is cut at paragraph boundaries below it).
    public var chunkTokens: Int
    /// A document of more tokens is prefilled in the background: the response says `processing`, and
    /// `GET /v1/documents/{id}` says `ready` once every chunk is in the library.
    public var backgroundTokens: Int
    /// Most chunks in one document.
    public var maximumChunks: Int

    /// - contextLimit: the model's window minus the chunk context (BOS), which a chunk must fit in.
    public init(chunkTokens: Int = 512, backgroundTokens: Int = 2048, maximumChunks: Int = 4096, contextLimit: Int) throws {
        guard chunkTokens >= 1, chunkTokens <= contextLimit else {
            throw ServerError.option(name: "chunk-tokens", reason: "must be in 1...\(contextLimit) (the model's window), found \(chunkTokens)")
        }
        guard backgroundTokens >= 0 else { throw ServerError.option(name: "background-tokens", reason: "must be >= 0, found \(backgroundTokens)") }
        guard maximumChunks >= 1 else { throw ServerError.option(name: "max-chunks", reason: "must be >= 1, found \(maximumChunks)") }
        self.chunkTokens = chunkTokens
        self.backgroundTokens = backgroundTokens
        self.maximumChunks = maximumChunks
    }
}
