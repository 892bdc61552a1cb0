import Foundation
import Testing
import Kernels

/// The kernels of the library's compact entries: narrowing to bf16 / f16 on every path against an independent
/// reference (Swift's `Float16` conversion, and bf16 round-to-nearest-even computed on the bits here), q8 with
/// f32 scales within its error bound and stable under requantization, and the f32 finiteness scan.
@Suite struct EntryKernelTests {
    /// Every value the narrowing must get right: ties in both directions, the largest values of each format,
    /// values that round past them, subnormals, signed zeros, infinities and NaN.
    static let edgeValues: [Float] = [
        0, -0, 1, -1, 1 + 1 / 256, 1 + 3 / 256, 1 + 1 / 2048, 1 + 3 / 2048, 65504, 65519, 65520, -65520, 1e-8, -3e-39, 1e-45,
        .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 3.3895314e38, .infinity, -.infinity, .nan, 6.1035156e-05, 5.9604645e-08,
    ]

    @Test("narrowing, scalar path") func scalarNarrowing() { checkNarrowing(.scalar) }

    @Test("narrowing, AVX2 path", .enabled(if: KernelPath.avx2.isSupported, "this CPU lacks avx2, fma or f16c"))
    func avx2Narrowing() { checkNarrowing(.avx2) }

    @Test("narrowing, AVX-512 path", .enabled(if: KernelPath.avx512.isSupported, "this CPU lacks avx512f or avx512bw"))
    func avx512Narrowing() { checkNarrowing(.avx512) }

    func checkNarrowing(_ path: KernelPath) {
        var random = SplitMix(seed: 11)
        // Random bit patterns cover every exponent; the edge values sit at every offset of a vector (and the tail).
        let values = (0..<4099).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: random.next())) } + Self.edgeValues
            + Self.edgeValues.reversed() + Self.edgeValues.prefix(5)
        for format in [StorageFormat.bf16, .f16] {
            var narrowed = [UInt16](repeating: 0xDEAD, count: values.count + 1)
            #expect(HalfKernels.narrow(format, path: path, values, count: values.count, into: &narrowed))
            #expect(narrowed[values.count] == 0xDEAD, "wrote past the end")
            for (index, value) in values.enumerated() {
                let expected = format == .bf16 ? Self.bfloat16(value) : Float16(value).bitPattern
                let isNaN = format == .bf16 ? (narrowed[index] & 0x7FFF) > 0x7F80 : (narrowed[index] & 0x7FFF) > 0x7C00
                if value.isNaN {
                    #expect(isNaN, "\(path) \(format) NaN became 0x\(String(narrowed[index], radix: 16))")
                } else {
                    #expect(narrowed[index] == expected,
                            "\(path) \(format) \(value): 0x\(String(narrowed[index], radix: 16)), expected 0x\(String(expected, radix: 16))")
                }
            }
        }
    }

    /// bf16 round to nearest even, from the definition: the nearest bf16, ties to the even mantissa.
    static func bfloat16(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        let truncated = UInt16(truncatingIfNeeded: bits >> 16), remainder = bits & 0xFFFF
        if remainder > 0x8000 || (remainder == 0x8000 && truncated & 1 == 1) { return truncated &+ 1 }
        return truncated
    }

    /// Each value within half a step of its block's scale, the scale max|x| / 127, rows of any width (padded
    /// blocks), and quantizing the dequantized values gives the same bytes again.
    @Test(arguments: [(1, 1), (3, 16), (2, 32), (5, 64), (4, 100), (7, 128)])
    func q8RoundTripsWithinHalfAStepAndRequantizesExactly(rows: Int, columns: Int) throws {
        var random = SplitMix(seed: UInt64(rows * 1000 + columns))
        let values = (0..<(rows * columns)).map { index -> Float in
            let scale: Float = [1, 1e-3, 300, 1e-30, 5e30][index / 7 % 5]
            return random.unit() * scale
        }
        let rowBytes = try #require(EntryKernels.q8RowBytes(columns: columns))
        #expect(rowBytes == (columns + 31) / 32 * 36)
        var blocks = [UInt8](repeating: 0, count: rows * rowBytes)
        try EntryKernels.quantize(values, rows: rows, columns: columns, into: &blocks)
        var decoded = [Float](repeating: .nan, count: values.count)
        try EntryKernels.dequantize(blocks, rows: rows, columns: columns, into: &decoded)
        for row in 0..<rows {
            for block in stride(from: 0, to: columns, by: 32) {
                let range = (row * columns + block)..<(row * columns + min(block + 32, columns))
                let largest = values[range].map(abs).max() ?? 0
                let step = largest / 127
                for index in range {
                    #expect(abs(decoded[index] - values[index]) <= step * 0.5 * (1 + 1e-4),
                            "row \(row) value \(index - row * columns): \(decoded[index]) for \(values[index]), step \(step)")
                }
            }
        }
        var again = [UInt8](repeating: 0, count: blocks.count)
        try EntryKernels.quantize(decoded, rows: rows, columns: columns, into: &again)
        #expect(again == blocks)
    }

    @Test func q8RefusesNonFiniteValuesAndScales() throws {
        var blocks = [UInt8](repeating: 0, count: 2 * 36)
        #expect(throws: EntryKernels.Refusal(index: 32)) {
            try EntryKernels.quantize((0..<64).map { $0 == 45 ? Float.infinity : Float($0) }, rows: 1, columns: 64, into: &blocks)
        }
        try EntryKernels.quantize((0..<64).map { Float($0) }, rows: 1, columns: 64, into: &blocks)
        withUnsafeBytes(of: Float.nan) { blocks.replaceSubrange(36..<40, with: $0) }
        var decoded = [Float](repeating: 0, count: 64)
        #expect(throws: EntryKernels.Refusal(index: 1)) { try EntryKernels.dequantize(blocks, rows: 1, columns: 64, into: &decoded) }
    }

    @Test func theF32ScanFindsTheFirstNonFiniteValue() {
        for (position, value) in [(0, Float.nan), (4095, .infinity), (4096, -.infinity), (9999, .nan)] {
            var values = [Float](repeating: 1, count: 10_000)
            values[position] = value
            values[9999] = value
            #expect(EntryKernels.firstNonFinite(values, count: values.count) == position)
        }
        #expect(EntryKernels.firstNonFinite([1, .greatestFiniteMagnitude, -0], count: 3) == nil)
    }
}
