import Models

extension ModelConfig {
    /// The positions a sequence may use: `max_position_embeddings`, or less when the RoPE scaling supports
    /// fewer (dynamic NTK works only within its original context, since its rotations do not compose).
    public var usableWindow: Int { min(maxPositionEmbeddings, ropeScaling.positionLimit) }
}
