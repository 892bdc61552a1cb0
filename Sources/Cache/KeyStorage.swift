/// How a cache stores keys, i.e. where RoPE is applied.
public enum KeyStorage: String, Sendable, CaseIterable, Codable {
    /// Keys rotated to their positions when written and read as they are (today's engines). A shift
    /// rotates the stored keys by the delta, as llama.cpp does: rounding accumulates over many shifts.
    case post
    /// Keys stored unrotated and rotated to their cell's position inside attention at every step (the
    /// pre-RoPE caches of the literature). A shift changes only metadata, but every step pays the rotation.
    case pre
    /// Live keys rotated to their current positions (attention at post-RoPE speed) plus the canonical
    /// unrotated keys, so a move re-derives the live keys from the canonical ones in one rotation with
    /// double-precision angles: no drift however often a range moves. The default.
    case anchored
}
