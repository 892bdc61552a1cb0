/// Who may see an entry: everyone (`public`) or one tenant. A tenant's lookups see its own entries and
/// public ones; they never see another tenant's.
public enum Namespace: Sendable, Hashable, CustomStringConvertible {
    case shared
    case tenant(String)

    /// Validates a tenant id (it becomes part of keys and file names).
    public static func tenant(id: String) throws -> Namespace {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
        guard (1...64).contains(id.count), id.allSatisfy({ allowed.contains($0) }), id != ".", id != ".." else {
            throw DocumentsError.invalidTenant(id)
        }
        return .tenant(id)
    }

    public var description: String {
        switch self {
        case .shared: return "public"
        case .tenant(let id): return "tenant:\(id)"
        }
    }

    /// Namespaces a request in this namespace reads, most specific first.
    public var searchOrder: [Namespace] {
        switch self {
        case .shared: return [.shared]
        case .tenant: return [self, .shared]
        }
    }
}
