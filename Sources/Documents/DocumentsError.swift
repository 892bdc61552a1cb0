/// Errors from the document KV library. A corrupt entry is never an error to the caller: it is discarded,
/// counted, and reported as a miss so the chunk is recomputed.
public enum DocumentsError: Error, Equatable, CustomStringConvertible {
    case invalidTenant(String)
    /// The library directory cannot be created or written (read-only, full, missing permissions).
    case unwritable(path: String, reason: String)
    /// An entry made for another cache geometry than the library's model.
    case geometryMismatch(String)

    public var description: String {
        switch self {
        case .invalidTenant(let id):
            return "tenant id '\(id)' is invalid: use 1-64 characters from letters, digits, '-', '_' and '.'"
        case let .unwritable(path, reason): return "document library at \(path) is not writable: \(reason)"
        case .geometryMismatch(let reason): return "chunk entry does not fit the model: \(reason)"
        }
    }
}
