/// Errors from cache operations. Every operation that throws leaves the cache unchanged.
public enum CacheError: Error, Equatable, CustomStringConvertible {
    /// The cache has no room for `requested` more cells (capacity `capacity`, in use `used`).
    case full(requested: Int, capacity: Int, used: Int)
    /// A position outside what the cache or the RoPE configuration supports.
    case positionOutOfRange(Int, limit: Int)
    /// A `positions` array whose count does not match the tokens.
    case positionCountMismatch(tokens: Int, positions: Int)
    /// A sequence id below zero.
    case invalidSequence(Int)

    public var description: String {
        switch self {
        case let .full(requested, capacity, used):
            return "KV cache full: \(requested) more cells requested, \(used) of \(capacity) in use"
        case let .positionOutOfRange(position, limit):
            return "position \(position) is outside the supported range [0, \(limit))"
        case let .positionCountMismatch(tokens, positions):
            return "\(positions) positions given for \(tokens) tokens"
        case let .invalidSequence(sequence):
            return "sequence id \(sequence) is invalid: ids are >= 0"
        }
    }
}
