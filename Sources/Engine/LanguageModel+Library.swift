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
    /// - format: how new entries store their K/V (f32 exact; bf16, f16, q8 compact).
    public func library(memoryBudget: Int = 512 << 20, path: String? = nil, format: KVFormat = .f32) throws -> DocumentLibrary {
        try DocumentLibrary(fingerprint: fingerprint, geometry: try model.libraryGeometry(), memoryBudget: memoryBudget, path: path,
                            format: format)
    }
}
