/// Errors from cache operations. Every operation that throws leaves the cache unchanged.
public enum CacheError: Error, Equatable, CustomStringConvertible {
    /// The cache has no room for `requested` more cells (capacity `capacity`, in use `used`).
    case full(requested: Int, capacity: Int, used: Int)
    /// A position outside what the cache and the RoPE configuration support.
    case positionOutOfRange(Int, limit: Int)
    /// A `positions` array whose count does not match the tokens.
    case positionCountMismatch(tokens: Int, positions: Int)
    /// A sequence id below zero.
    case invalidSequence(Int)
    /// A position range that is empty, reversed or negative.
    case invalidRange(lower: Int, upper: Int)
    /// The range holds no cell of the sequence.
    case emptyRange(sequence: Int, lower: Int, upper: Int)
    /// The RoPE scaling's rotations do not compose (dynamic NTK), so keys cannot move.
    case rotationDoesNotCompose(String)
    /// A slice made for another cache shape.
    case sliceMismatch(String)
    /// The same position given twice for one sequence in one call.
    case duplicatePosition(Int)
    /// The same sequence given twice in one batched call.
    case duplicateSequence(Int)
    /// The sequence already holds a cell at that position (a sequence holds one cell per position).
    case positionOccupied(sequence: Int, position: Int)
    /// The sequence holds no cell at that position.
    case positionNotHeld(sequence: Int, position: Int)
    /// A read view asked for something the cache does not have (layer, shapes).
    case invalidView(String)

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
        case let .invalidRange(lower, upper):
            return "position range [\(lower), \(upper)) is invalid: it must be non-empty with lower >= 0"
        case let .emptyRange(sequence, lower, upper):
            return "sequence \(sequence) has no cells in position range [\(lower), \(upper))"
        case .rotationDoesNotCompose(let scaling):
            return "RoPE scaling \(scaling) does not compose rotations, so cached keys cannot be moved; re-prefill instead"
        case .sliceMismatch(let reason):
            return "cache slice does not fit this cache: \(reason)"
        case .duplicatePosition(let position):
            return "position \(position) is given twice"
        case .duplicateSequence(let sequence):
            return "sequence \(sequence) is given twice in one batch"
        case let .positionOccupied(sequence, position):
            return "sequence \(sequence) already holds position \(position)"
        case let .positionNotHeld(sequence, position):
            return "sequence \(sequence) holds no cell at position \(position)"
        case .invalidView(let reason):
            return "invalid cache view: \(reason)"
        }
    }
}
