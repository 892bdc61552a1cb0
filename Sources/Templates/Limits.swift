/// Bounds that keep any template text and any conversation from exhausting memory, time or the stack.
public struct TemplateLimits: Sendable, Equatable {
    /// Longest rendered text, and longest string any expression may build, in Unicode scalars.
    public var maximumOutputLength: Int
    /// Loop iterations over the whole render (all `for` loops together, and loop filters); also the longest
    /// list a `range()` or filter may build. Real templates walk the messages (and tools) a few times.
    public var maximumIterations: Int
    /// Deepest nesting of tags and expressions (parser and evaluator recursion).
    public var maximumDepth: Int
    /// Longest template source, in Unicode scalars.
    public var maximumSourceLength: Int

    public init(maximumOutputLength: Int = 16 << 20, maximumIterations: Int = 100_000,
                maximumDepth: Int = 128, maximumSourceLength: Int = 1 << 20) {
        self.maximumOutputLength = maximumOutputLength
        self.maximumIterations = maximumIterations
        self.maximumDepth = maximumDepth
        self.maximumSourceLength = maximumSourceLength
    }
}
