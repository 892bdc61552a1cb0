/// Finished sequences whose KV stays in the cache for the tenant's next turn, least recently parked
/// evicted first. A new job of the same tenant adopts the one that saves it the most prompt tokens.
struct ParkedSequences {
    struct Entry {
        let sequence: Int
        /// The tokens the cache holds for it at positions `0..<tokens.count`.
        let tokens: [Int]
        let tenant: String
        let tick: UInt64
    }

    /// How a job adopts a parked sequence.
    struct Match {
        let index: Int
        /// Prompt tokens (of the kept prompt) whose KV it supplies: the job holds positions `0..<reused` after adoption.
        let reused: Int
        /// Tokens of the parked sequence that match the submitted prompt (before overflow dropped anything).
        let matched: Int
        /// Whether the parked cells past the dropped range must be shifted down (the prompt was cut inside them).
        let shifts: Bool
    }

    private(set) var entries: [Entry] = []
    private var clock: UInt64 = 0

    /// Tokens held by parked sequences.
    var heldTokens: Int { entries.reduce(0) { $0 + $1.tokens.count } }

    mutating func park(sequence: Int, tokens: [Int], tenant: String) {
        clock += 1
        entries.append(Entry(sequence: sequence, tokens: tokens, tenant: tenant, tick: clock))
    }

    mutating func remove(at index: Int) -> Entry { entries.remove(at: index) }

    /// The least recently parked entry other than `except`.
    func oldest(except: Int?) -> Int? {
        entries.indices.filter { $0 != except }.min { entries[$0].tick < entries[$1].tick }
    }

    /// The tenant's entry that supplies the longest exact prefix of `kept` (the prompt after dropping `dropped`
    /// from `prompt`), or nil when none supplies a token. At least one prompt token is always left to compute
    /// (its logits start generation). With `canShift`, a sequence matching past the dropped range supplies
    /// the kept tokens on both sides of it (its cells after the range shift down).
    func bestMatch(tenant: String, prompt: [Int], kept: [Int], dropped: Range<Int>?, canShift: Bool) -> Match? {
        var best: Match?
        for (index, entry) in entries.enumerated() where entry.tenant == tenant {
            let plain = min(Self.commonPrefix(entry.tokens, kept), kept.count - 1)
            var match = Match(index: index, reused: plain, matched: plain, shifts: false)
            if let dropped, canShift {
                let matched = min(Self.commonPrefix(entry.tokens, prompt), prompt.count - 1)
                if matched > dropped.upperBound, matched - dropped.count > plain {
                    match = Match(index: index, reused: matched - dropped.count, matched: matched, shifts: true)
                }
            }
            if match.reused > 0, match.reused > (best?.reused ?? 0) { best = match }
        }
        return best
    }

    static func commonPrefix(_ a: [Int], _ b: [Int]) -> Int {
        var count = 0
        while count < a.count, count < b.count, a[count] == b[count] { count += 1 }
        return count
    }
}
