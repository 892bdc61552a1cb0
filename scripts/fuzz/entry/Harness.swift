import Foundation

/// libFuzzer entry point for the library entry decoder (`EntryCodec.decode`), compiled into one module with
/// the Documents sources by `build.sh`. Each input is decoded twice: as it is (which mostly exercises the
/// prelude, size and checksum checks) and with its SHA-256 appended, so that mutated headers and payloads
/// get past the checksum and reach the header, size, position and payload checks. Seeds are therefore
/// valid entries without their checksum. Any rejection is fine; a trap, an overflow or a huge allocation
/// is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEntry(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    // Do not escape the pointer: the bytes are copied into `input`.
    let input = start.map { Data(bytes: $0, count: count) } ?? Data()
    let model = try? ModelGeometry(layers: 2, kvHeads: 2, headDimension: 4)
    for data in [input, input + Data(EntryCodec.checksum(of: input))] {
        _ = try? EntryCodec.decode(data, limits: .standard, model: nil)
        _ = try? EntryCodec.decode(data, limits: .standard, model: model)
    }
    return 0
}
