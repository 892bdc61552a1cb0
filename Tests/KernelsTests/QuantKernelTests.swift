import Foundation
import Testing
import TestSupport
import Kernels

/// The block-quantized kernels (q8, q4) of every dispatch path against the scalar reference, on random data
/// with odd sizes and row lengths that are not multiples of the 32-value block (padded with zeros). A path
/// this CPU lacks shows as skipped.
@Suite struct QuantKernelTests {
    /// Rows × columns: one value, a partial block, exactly one block, one past it, many blocks with tails,
    /// odd block counts (the vector paths pair blocks), more rows than any unrolling.
    static let shapes = [(1, 1), (3, 7), (2, 31), (5, 32), (4, 33), (7, 64), (13, 100), (1, 2048), (9, 257), (33, 1031)]
    static let formats = [StorageFormat.q8, .q4]

    @Test("scalar path") func scalarPath() throws { try check(.scalar) }

    @Test("AVX2 path", .enabled(if: KernelPath.avx2.isSupported, "this CPU lacks avx2, fma or f16c"))
    func avx2Path() throws { try check(.avx2) }

    @Test("AVX-512 path", .enabled(if: KernelPath.avx512.isSupported, "this CPU lacks avx512f or avx512bw"))
    func avx512Path() throws { try check(.avx512) }

    /// For each shape and format: the input quantized bit-identically to the scalar reference; the GEMV
    /// within f32 rounding of the exact sum of the dequantized products (so the reference itself is checked);
    /// dequantization bit-identical to the reference.
    func check(_ path: KernelPath) throws {
        var random = SplitMix(seed: 21)
        for format in Self.formats {
            for (rows, columns) in Self.shapes {
                let weights = randomValues(rows * columns, &random)
                let blocks = QuantKernels.blocks(columns: columns)
                var packed = [UInt8](repeating: 0xAA, count: rows * format.rowBytes(columns: columns))
                try QuantKernels.quantize(format, weights, rows: rows, columns: columns, into: &packed)
                let input = randomValues(columns, &random)
                var quantized = [Int8](repeating: 0, count: blocks * 32), scales = [Float](repeating: 0, count: blocks)
                var referenceQuantized = quantized, referenceScales = scales
                #expect(QuantKernels.quantizeVector(path: .scalar, input, columns: columns, quantized: &referenceQuantized, scales: &referenceScales))
                #expect(QuantKernels.quantizeVector(path: path, input, columns: columns, quantized: &quantized, scales: &scales))
                #expect(quantized == referenceQuantized && scales == referenceScales, "\(path) vector \(columns)")
                #expect(quantized[columns...].allSatisfy { $0 == 0 }, "padding of the input's last block")

                var dequantized = [Float](repeating: .nan, count: rows * columns)
                var referenceDequantized = dequantized
                #expect(QuantKernels.dequantize(format, path: .scalar, packed, rows: rows, columns: columns, into: &referenceDequantized))
                #expect(QuantKernels.dequantize(format, path: path, packed, rows: rows, columns: columns, into: &dequantized))
                #expect(dequantized == referenceDequantized, "\(path) \(format) dequantize \(rows)x\(columns)")

                var expected = [Float](repeating: 0, count: rows), actual = [Float](repeating: .nan, count: rows)
                #expect(QuantKernels.gemv(format, path: .scalar, weights: packed, rows: rows, columns: columns,
                                          quantized: referenceQuantized, scales: referenceScales, output: &expected, threads: 1))
                #expect(QuantKernels.gemv(format, path: path, weights: packed, rows: rows, columns: columns,
                                          quantized: quantized, scales: scales, output: &actual, threads: 1))
                for row in 0..<rows {
                    // The exact sum of dequantized weight times dequantized input, in double. Each block's
                    // integer dot is exact in every path; only the f32 scaling and summation of at most
                    // 33 blocks round: 1e-5 S (S = sum |w x|) bounds that with a wide margin, while one
                    // wrong element or block moves the sum by ~S / columns or more.
                    var exact = 0.0, magnitude = 0.0
                    for c in 0..<columns {
                        let x = Double(scales[c / 32]) * Double(quantized[c])
                        exact += Double(referenceDequantized[row * columns + c]) * x
                        magnitude += abs(Double(referenceDequantized[row * columns + c]) * x)
                    }
                    let bound = 1e-5 * magnitude + 1e-30
                    #expect(abs(Double(expected[row]) - exact) <= bound, "scalar \(format) \(rows)x\(columns) row \(row)")
                    #expect(abs(Double(actual[row]) - exact) <= bound,
                            "\(path) \(format) \(rows)x\(columns) row \(row): \(actual[row]) vs \(exact)")
                }
            }
        }
    }

    /// Quantization error per block: q8 within half a step (scale = max |v| / 127, rounded to f16); q4 within
    /// one step (scale = max |v| / 8; the value opposite the extreme may clamp from +8 to +7), else half.
    /// The padding of a row's last block is zero.
    @Test(arguments: formats)
    func quantizationErrorStaysWithinAStep(format: StorageFormat) throws {
        var random = SplitMix(seed: 5)
        for columns in [1, 5, 31, 32, 33, 95, 300] {
            let rows = 3
            // Blocks of very different magnitudes, including tiny ones.
            let values = (0..<(rows * columns)).map { i in random.unit() * (i % 64 < 32 ? 1 : 1e-3) }
            var packed = [UInt8](repeating: 0xAA, count: rows * format.rowBytes(columns: columns))
            try QuantKernels.quantize(format, values, rows: rows, columns: columns, into: &packed)
            var restored = [Float](repeating: .nan, count: values.count)
            #expect(QuantKernels.dequantize(format, path: .scalar, packed, rows: rows, columns: columns, into: &restored))
            for row in 0..<rows {
                for block in 0..<QuantKernels.blocks(columns: columns) {
                    let range = (row * columns + block * 32)..<(row * columns + min(columns, block * 32 + 32))
                    let largest = values[range].map(abs).max() ?? 0
                    let step = Double(largest) / (format == .q8 ? 127 : 8) * (1 + 1e-3)
                    for i in range {
                        let error = abs(Double(restored[i]) - Double(values[i]))
                        // Scales below f16's normal range (6.1e-5) are subnormal, rounded to 2^-25: 127 (q8) or
                        // 8 (q4) steps of that may move a clamped extreme.
                        let subnormalRounding = (format == .q8 ? 127 : 8) * 0x1p-25
                        #expect(error <= (format == .q8 ? step / 2 : step) + subnormalRounding, "\(format) \(columns) columns, element \(i)")
                    }
                }
            }
            if format == .q8, columns % 32 != 0 {
                let rowBytes = format.rowBytes(columns: columns)
                let lastBlock = rowBytes - 34
                #expect(packed[(lastBlock + 2 + columns % 32)..<rowBytes].allSatisfy { $0 == 0 }, "padding of a q8 row")
            }
        }
    }

    /// A NaN, an infinity or a block whose scale exceeds f16 (|v| > 65504 * 127) is refused with the index of
    /// its block's first element.
    @Test(arguments: formats)
    func unquantizableBlocksAreRefused(format: StorageFormat) {
        for (bad, index) in [(Float.nan, 70), (.infinity, 33), (1e10, 64)] {
            var values = [Float](repeating: 0.5, count: 100)
            values[index] = bad
            var packed = [UInt8](repeating: 0, count: format.rowBytes(columns: 100))
            #expect(throws: QuantKernels.Refusal(index: index / 32 * 32)) {
                try QuantKernels.quantize(format, values, rows: 1, columns: 100, into: &packed)
            }
        }
    }

    /// Two cores split the rows, and each row is summed as on one core: bit-identical.
    @Test(arguments: KernelPath.allCases.filter(\.isSupported))
    func twoCoresGiveTheSameBits(path: KernelPath) throws {
        var random = SplitMix(seed: 9)
        for format in Self.formats {
            for (rows, columns) in [(2051, 300), (1030, 1000), (60, 40_000)] {
                var packed = [UInt8](repeating: 0, count: rows * format.rowBytes(columns: columns))
                try QuantKernels.quantize(format, randomValues(rows * columns, &random), rows: rows, columns: columns, into: &packed)
                let input = randomValues(columns, &random)
                let blocks = QuantKernels.blocks(columns: columns)
                var quantized = [Int8](repeating: 0, count: blocks * 32), scales = [Float](repeating: 0, count: blocks)
                #expect(QuantKernels.quantizeVector(path: path, input, columns: columns, quantized: &quantized, scales: &scales))
                var one = [Float](repeating: 0, count: rows), two = [Float](repeating: .nan, count: rows)
                #expect(QuantKernels.gemv(format, path: path, weights: packed, rows: rows, columns: columns, quantized: quantized,
                                          scales: scales, output: &one, threads: 1))
                #expect(QuantKernels.gemv(format, path: path, weights: packed, rows: rows, columns: columns, quantized: quantized,
                                          scales: scales, output: &two, threads: 2))
                #expect(one == two, "\(path) \(format) \(rows)x\(columns)")
            }
        }
    }

    /// A forced path this CPU lacks is refused: nothing runs and nothing is written.
    @Test(.enabled(if: KernelPath.allCases.contains { !$0.isSupported }, "this CPU supports every path"))
    func unsupportedPathIsRefused() throws {
        let missing = try #require(KernelPath.allCases.first { !$0.isSupported })
        var packed = [UInt8](repeating: 0, count: StorageFormat.q8.rowBytes(columns: 40))
        try QuantKernels.quantize(.q8, [Float](repeating: 1, count: 40), rows: 1, columns: 40, into: &packed)
        var quantized = [Int8](repeating: 0, count: 64), scales: [Float] = [0, 0], output: [Float] = [42]
        #expect(!QuantKernels.quantizeVector(path: missing, [Float](repeating: 1, count: 40), columns: 40, quantized: &quantized, scales: &scales))
        #expect(scales == [0, 0])
        #expect(!QuantKernels.gemv(.q8, path: missing, weights: packed, rows: 1, columns: 40, quantized: quantized, scales: scales,
                                   output: &output, threads: 1))
        #expect(!QuantKernels.dequantize(.q4, path: missing, packed, rows: 1, columns: 8, into: &output))
        #expect(output == [42])
    }

    private func randomValues(_ count: Int, _ random: inout SplitMix) -> [Float] {
        // Mostly (-1, 1), now and then tiny: blocks of mixed magnitude and a few all-small blocks.
        (0..<count).map { _ in random.next() % 16 == 0 ? random.unit() * 1e-4 : random.unit() }
    }
}
