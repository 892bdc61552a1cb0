/// Errors starting the server (bad options or files), each naming what is wrong. Request errors are `APIError`.
public enum ServerError: Error, Equatable, CustomStringConvertible {
    case apiKeys(path: String, reason: String)
    case nonLoopbackWithoutKeys(host: String)
    case chatTemplate(path: String, reason: String)
    case option(name: String, reason: String)

    public var description: String {
        switch self {
        case let .apiKeys(path, reason): return "--api-keys \(path): \(reason)"
        case let .nonLoopbackWithoutKeys(host):
            return "--host \(host) is not a loopback address: serving beyond this machine needs --api-keys FILE"
        case let .chatTemplate(path, reason): return "--chat-template \(path): \(reason)"
        case let .option(name, reason): return "--\(name) \(reason)"
        }
    }
}
