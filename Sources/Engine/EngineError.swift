/// Errors from the engine layer: invalid parameters and model directories that cannot be used.
public enum EngineError: Error, Equatable, CustomStringConvertible {
    /// A parameter outside its valid range; names the parameter.
    case invalidParameter(name: String, reason: String)
    case modelDirectory(path: String, reason: String)
    case emptyInput(String)

    public var description: String {
        switch self {
        case let .invalidParameter(name, reason): return "invalid \(name): \(reason)"
        case let .modelDirectory(path, reason): return "model directory \(path): \(reason)"
        case .emptyInput(let what): return "\(what) is empty"
        }
    }
}
