/// Why a pruning could not be made; each names the parameter or file at fault.
public enum PruningError: Error, Equatable, CustomStringConvertible {
    case invalidParameter(name: String, reason: String)
    case unwritable(path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidParameter(name, reason): return "\(name) \(reason)"
        case let .unwritable(path, reason): return "cannot write \(path): \(reason)"
        }
    }
}
