import Foundation

/// libFuzzer entry: the input is a safetensors header (the JSON after the 8-byte length) over a 16 MiB
/// data section; an error is fine, a crash is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensorsHeader(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard let header = try? SafeTensorsHeader(Data(bytes: bytes, count: count), file: "fuzz.safetensors", dataLength: 16_777_216) else {
        return 0
    }
    // Every accepted range must lie inside the data section and match dtype × shape.
    for info in header.tensors.values {
        precondition(info.range.lowerBound >= 0 && info.range.upperBound <= 16_777_216, "range outside the data section")
        precondition(info.elementCount * info.dtype.byteCount == info.range.count, "size does not match dtype × shape")
    }
    return 0
}
