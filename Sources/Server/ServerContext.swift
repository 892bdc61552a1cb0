import Hummingbird

/// The request context of every route: Hummingbird's storage plus who is asking and the request's record
/// (filled in by the middleware before the route runs).
public struct ServerContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The authenticated tenant (`Tenant.local` without `--api-keys`).
    var tenant = Tenant.local
    /// What the request log line and the metrics report; shared with a stream that outlives the handler.
    var record = RequestRecord(route: "unmatched")

    public init(source: Source) {
        coreContext = .init(source: source)
    }
}
