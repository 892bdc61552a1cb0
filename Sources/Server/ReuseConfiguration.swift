import Engine

/// How prompts reuse the document library unless a request's `reanchor.reuse` says otherwise
/// (`--reuse`, `--recompute-ratio`, `--reuse-min-tokens`).
public struct ReuseConfiguration: Sendable {
    /// The modes a request may ask for: `full` and `prefix` compute the prompt (`prefix` after the tenant's
    /// parked earlier turns); `anchored` and `blend` compose it from library chunks.
    public static let modes: [ReuseMode] = [.full, .prefix, .anchored, .blend]

    /// Blend at CacheBlend's 0.15, transparent reuse from 32 chunk tokens.
    public static let standard = ReuseConfiguration(checkedMode: .blend, recomputeRatio: BlendParameters.standard.ratio, minimumChunkTokens: 32)

    public var mode: ReuseMode
    /// CacheBlend's share of chunk tokens recomputed in `blend` (check layer and ranking: `BlendParameters.standard`).
    public var recomputeRatio: Double
    /// Chunk tokens a pasted prompt needs before transparent reuse composes it from the library (fewer: it
    /// is computed, with the same segmented ids, after the tenant's parked earlier turns).
    public var minimumChunkTokens: Int

    private init(checkedMode mode: ReuseMode, recomputeRatio: Double, minimumChunkTokens: Int) {
        self.mode = mode
        self.recomputeRatio = recomputeRatio
        self.minimumChunkTokens = minimumChunkTokens
    }

    public init(mode: ReuseMode = .blend, recomputeRatio: Double = BlendParameters.standard.ratio, minimumChunkTokens: Int = 32) throws {
        guard Self.modes.contains(mode) else {
            throw ServerError.option(name: "reuse", reason: "must be one of \(Self.modes.map(\.rawValue).joined(separator: ", ")), found \(mode.rawValue)")
        }
        guard recomputeRatio.isFinite, (0...1).contains(recomputeRatio) else {
            throw ServerError.option(name: "recompute-ratio", reason: "must be in [0, 1], found \(recomputeRatio)")
        }
        guard minimumChunkTokens >= 1 else {
            throw ServerError.option(name: "reuse-min-tokens", reason: "must be >= 1, found \(minimumChunkTokens)")
        }
        self.mode = mode
        self.recomputeRatio = recomputeRatio
        self.minimumChunkTokens = minimumChunkTokens
    }

    /// The request's `reanchor.reuse` over these defaults; 400 naming the field when out of range.
    func resolved(_ field: ReuseField?) throws -> (mode: ReuseMode, blend: BlendParameters) {
        var mode = self.mode
        if let name = field?.mode {
            guard let chosen = ReuseMode(rawValue: name), Self.modes.contains(chosen) else {
                throw APIError.invalid("reanchor.reuse.mode", "'reanchor.reuse.mode' must be one of "
                                       + Self.modes.map(\.rawValue).joined(separator: ", ") + ", found '\(name.prefix(64))'.")
            }
            mode = chosen
        }
        let ratio = field?.recomputeRatio ?? recomputeRatio
        guard ratio.isFinite, (0...1).contains(ratio) else {
            throw APIError.invalid("reanchor.reuse.recompute_ratio", "'reanchor.reuse.recompute_ratio' must be in [0, 1], found \(ratio).")
        }
        let standard = BlendParameters.standard
        // In range (checked above), so this does not throw.
        let blend = (try? BlendParameters(ratio: ratio, checkLayer: standard.checkLayer, deviation: standard.deviation)) ?? standard
        return (mode, blend)
    }
}

/// `reanchor.reuse`: `{"mode": "anchored"|"blend"|"prefix"|"full", "recompute_ratio": 0.15}`.
struct ReuseField: Decodable, Sendable {
    var mode: String?
    var recomputeRatio: Double?

    enum CodingKeys: String, CodingKey { case mode, recomputeRatio = "recompute_ratio" }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        mode = try container.decodeIfPresent(String.self, forKey: .mode)
        recomputeRatio = try container.decodeNumber(Double.self, forKey: .recomputeRatio)
    }
}
