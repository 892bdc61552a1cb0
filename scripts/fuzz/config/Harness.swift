import Foundation

/// libFuzzer entry: parses the input as a config.json; an error is fine, a crash is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard let config = try? ModelConfig(json: Data(bytes: bytes, count: count), file: "fuzz.json") else { return 0 }
    // Everything derived from a valid config must be computable without a trap.
    _ = config.canonicalDescription
    _ = config.qkvWidth
    _ = config.rotary
    _ = try? config.with(maxPositionEmbeddings: config.maxPositionEmbeddings)
    return 0
}
