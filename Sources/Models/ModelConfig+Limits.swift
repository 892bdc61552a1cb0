import Kernels

extension ModelConfig {
    /// Upper bounds on config sizes, well above every published Llama-family model (Llama 3.1 405B:
    /// hidden 16384, intermediate 53248, 126 layers, 128 heads; vocabularies up to ~256k) and low enough
    /// that no product of them overflows `Int`.
    public enum Limits {
        public static let hiddenSize = 1 << 16
        public static let intermediateSize = 1 << 18
        public static let layers = 1 << 10
        public static let heads = 1 << 10
        public static let headDimension = 1 << 12
        public static let vocabularySize = 1 << 22
        /// The positions RoPE tables support (`RotaryEmbedding.maximumPosition`, 2^24).
        public static let maxPositionEmbeddings = RotaryEmbedding.maximumPosition
        /// The weights as f32 (how this engine holds them): 2^40 bytes, 1 TiB.
        public static let parameterBytes = 1 << 40
    }
}
