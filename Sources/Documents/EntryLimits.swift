/// Bounds on what a library entry may claim, checked before anything a file claims is allocated or read.
/// Generous for real models (Llama 3 70B: 80 layers, 8 kv heads of 128), small enough that no product of
/// them can overflow and no single entry can exhaust memory.
public struct EntryLimits: Sendable, Equatable {
    public var maximumLayers = 1024
    public var maximumKVHeads = 1024
    public var maximumHeadDimension = 1024
    /// Tokens in one chunk, and in the context it was encoded after.
    public var maximumTokens = 1 << 20
    /// Bytes of an entry's JSON header.
    public var maximumHeaderBytes = 64 << 20
    /// Bytes of a whole entry file; larger files are discarded without being read.
    public var maximumEntryBytes = 1 << 30

    public init() {}

    /// The limits the library uses unless told otherwise.
    public static let standard = EntryLimits()
}

/// The product of `factors`, or nil when it overflows `Int` (or a factor is negative).
func checkedProduct(_ factors: Int...) -> Int? {
    var product = 1
    for factor in factors {
        guard factor >= 0 else { return nil }
        let (result, overflow) = product.multipliedReportingOverflow(by: factor)
        if overflow { return nil }
        product = result
    }
    return product
}

/// The sum of `terms`, or nil when it overflows `Int` (or a term is negative).
func checkedSum(_ terms: Int...) -> Int? {
    var sum = 0
    for term in terms {
        guard term >= 0 else { return nil }
        let (result, overflow) = sum.addingReportingOverflow(term)
        if overflow { return nil }
        sum = result
    }
    return sum
}
