/// Errors from the document KV library, each with the context a person needs to act on it.
///
/// A corrupt or mismatched stored entry is never an error to a lookup: it is removed, recorded as a
/// `LibraryEvent` (file and reason) and reported as a miss, so the chunk is recomputed.
public enum DocumentsError: Error, Equatable, CustomStringConvertible {
    /// A tenant id that breaks the rules of `Namespace.tenant(id:)`.
    case invalidTenant(id: String, reason: String)
    /// The library directory cannot be used: empty path, a path under a regular file, missing permissions.
    case invalidDirectory(path: String, reason: String)
    /// The library directory cannot be written (read-only, full, vanished).
    case unwritable(path: String, reason: String)
    /// A model geometry the library cannot hold (a field not positive or above its bound).
    case invalidGeometry(field: String, value: Int, reason: String)
    /// A chunk offered to the library that does not fit its model (geometry, token count, positions, sizes).
    case geometryMismatch(String)
    /// Bytes that are not a valid entry; the reason names the field. Reported inside a `LibraryEvent` with the file.
    case invalidEntry(reason: String)

    public var description: String {
        switch self {
        case let .invalidTenant(id, reason):
            return "tenant id \(quoted(id)) is invalid (\(reason)): use 1-\(Namespace.maximumTenantIDLength) characters "
                + "from letters, digits, '-', '_' and '.'"
        case let .invalidDirectory(path, reason): return "document library directory '\(path)' cannot be used: \(reason)"
        case let .unwritable(path, reason): return "document library at \(path) is not writable: \(reason)"
        case let .invalidGeometry(field, value, reason): return "model geometry field \(field) = \(value) is invalid: \(reason)"
        case .geometryMismatch(let reason): return "chunk does not fit the library's model: \(reason)"
        case .invalidEntry(let reason): return "invalid library entry: \(reason)"
        }
    }
}
