import Documents
import Models

extension CausalLanguageModel {
    /// The K/V shape of this model's library entries.
    public func libraryGeometry() throws -> ModelGeometry { try ModelGeometry(cacheGeometry(capacity: 1)) }
}

extension LanguageModel {
    /// A document library for this model: its fingerprint (so no other model or tokenizer can hit its
    /// entries) and its K/V geometry (entries of any other shape are misses, removed and reported).
    /// - path: the disk tier's directory as given on the command line, or nil for memory only.
    public func library(memoryBudget: Int = 512 << 20, path: String? = nil) throws -> DocumentLibrary {
        try DocumentLibrary(fingerprint: fingerprint, geometry: try model.libraryGeometry(), memoryBudget: memoryBudget, path: path)
    }
}
