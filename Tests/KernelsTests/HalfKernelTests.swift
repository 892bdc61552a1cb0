import Foundation
import Testing
import TestSupport
import Kernels

/// The 16-bit weight kernels of every dispatch path against the scalar reference, on random data with odd
/// sizes and tails that are not multiples of any vector width. A path this CPU lacks shows as skipped.
@Suite struct HalfKernelTests {
    /// Rows × columns: one row, fewer columns than a vector, tails of every width, more rows than a block of 4.
    static let shapes = [(1, 1), (1, 7), (3, 8), (5, 17), (4, 16), (7, 33), (13, 100), (1, 2048), (64, 257), (9, 1031)]

    @Test("scalar path") func scalarPath() throws { try check(.scalar) }

    @Test("AVX2 path", .enabled(if: KernelPath.avx2.isSupported, "this CPU lacks avx2, fma or f16c"))
    func avx2Path() throws { try check(.avx2) }

    @Test("AVX-512 path", .enabled(if: KernelPath.avx512.isSupported, "this CPU lacks avx512f or avx512bw"))
    func avx512Path() throws { try check(.avx512) }

    /// GEMV bit-exact on integer data (every partial sum is exact, so any order gives the same result and only
    /// a wrong index or tail can differ), and within f32 rounding of the reference on random data; widening
    /// bit-exact on every 16-bit pattern.
    func check(_ path: KernelPath) throws {
        var random = SplitMix(seed: 7)
        for format in [StorageFormat.bf16, .f16] {
            for (rows, columns) in Self.shapes {
                let weights = (0..<(rows * columns)).map { _ in random.half(format) }
                let input = (0..<columns).map { _ in random.unit() }
                var expected = [Float](repeating: 0, count: rows)
                var actual = [Float](repeating: .nan, count: rows)
                #expect(HalfKernels.gemv(format, path: .scalar, weights: weights, rows: rows, columns: columns, input: input, output: &expected))
                #expect(HalfKernels.gemv(format, path: path, weights: weights, rows: rows, columns: columns, input: input, output: &actual))
                // Rounding of sums in another order grows like sqrt(n) 2^-24 S, S = sum |w x| of the row
                // (<= 2.7e-6 S for n <= 2048): 1e-5 S leaves a 4x margin, while one wrong or missing
                // element moves the sum by a whole |w x| (~S / n).
                for row in 0..<rows {
                    let magnitude = (0..<columns).reduce(Float(0)) { sum, c in
                        sum + abs(floatValue(weights[row * columns + c], format) * input[c])
                    }
                    #expect(abs(actual[row] - expected[row]) <= 1e-5 * magnitude + 1e-30,
                            "\(path) \(format) \(rows)x\(columns) row \(row): \(actual[row]) vs \(expected[row])")
                }
                // Integers: |w| <= 8, |x| <= 4, sums < 2^24, all exact.
                let integerWeights = (0..<(rows * columns)).map { _ in narrowed(Float(Int(random.next() % 17) - 8), format) }
                let integerInput = (0..<columns).map { _ in Float(Int(random.next() % 9) - 4) }
                #expect(HalfKernels.gemv(format, path: .scalar, weights: integerWeights, rows: rows, columns: columns,
                                         input: integerInput, output: &expected))
                #expect(HalfKernels.gemv(format, path: path, weights: integerWeights, rows: rows, columns: columns,
                                         input: integerInput, output: &actual))
                #expect(actual == expected, "\(path) \(format) \(rows)x\(columns) on integers")
            }
            // Widening: every bit pattern, compared bit for bit with Swift's own conversion (NaN as NaN).
            let patterns = (0...UInt16.max).map { $0 }
            var widened = [Float](repeating: 0, count: patterns.count)
            #expect(HalfKernels.widen(format, path: path, patterns, count: patterns.count, into: &widened))
            for (pattern, value) in zip(patterns, widened) {
                let reference = format == .bf16 ? Float(bitPattern: UInt32(pattern) << 16) : Float(Float16(bitPattern: pattern))
                #expect(reference.isNaN ? value.isNaN : value.bitPattern == reference.bitPattern,
                        "\(path) \(format) pattern 0x\(String(pattern, radix: 16)): \(value) vs \(reference)")
                if reference.isNaN != value.isNaN || (!reference.isNaN && value.bitPattern != reference.bitPattern) { break }
            }
            // Odd offsets and a tail: widen of a sub-range touches exactly that range.
            var window = [Float](repeating: -7, count: 40)
            window.withUnsafeMutableBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                _ = HalfKernels.widen(format, path: path, Array(patterns[1000..<1037]), count: 37, into: base + 1)
            }
            #expect(window[0] == -7 && window[38] == -7 && window[39] == -7)
        }
    }

    /// A forced path this CPU lacks is refused: nothing runs and nothing is written.
    @Test(.enabled(if: KernelPath.allCases.contains { !$0.isSupported }, "this CPU supports every path"))
    func unsupportedPathIsRefused() throws {
        let missing = try #require(KernelPath.allCases.first { !$0.isSupported })
        var output: [Float] = [42, 42]
        #expect(!HalfKernels.gemv(.bf16, path: missing, weights: [0x3F80, 0x3F80, 0x3F80, 0x3F80], rows: 2, columns: 2,
                                  input: [1, 1], output: &output))
        #expect(output == [42, 42])
        #expect(!HalfKernels.widen(.f16, path: missing, [0x3C00], count: 1, into: &output))
        #expect(output == [42, 42])
        #expect(throws: KernelPathError.self) { try KernelPath.validatedEnvironment([KernelPath.environmentKey: missing.rawValue]) }
    }

    @Test func environmentSelectsOrRefusesPaths() throws {
        #expect(try KernelPath.validatedEnvironment([:]) == KernelPath.best)
        #expect(try KernelPath.validatedEnvironment([KernelPath.environmentKey: "scalar"]) == .scalar)
        #expect(throws: KernelPathError.self) { try KernelPath.validatedEnvironment([KernelPath.environmentKey: "sse9"]) }
        #expect(KernelPath.active.isSupported)
        #expect(KernelPath.best.isSupported)
    }

    /// Two cores split the rows at a multiple of 4, so each row is summed as on one core: bit-identical.
    @Test(arguments: KernelPath.allCases.filter(\.isSupported))
    func twoCoresGiveTheSameBits(path: KernelPath) {
        var random = SplitMix(seed: 3)
        for format in [StorageFormat.bf16, .f16] {
            for (rows, columns) in [(1030, 300), (2051, 131), (9, 40_000)] {
                let weights = (0..<(rows * columns)).map { _ in random.half(format) }
                let input = (0..<columns).map { _ in random.unit() }
                var one = [Float](repeating: 0, count: rows)
                var two = [Float](repeating: .nan, count: rows)
                #expect(HalfKernels.gemv(format, path: path, weights: weights, rows: rows, columns: columns, input: input, output: &one, threads: 1))
                #expect(HalfKernels.gemv(format, path: path, weights: weights, rows: rows, columns: columns, input: input, output: &two, threads: 2))
                #expect(one == two, "\(path) \(format) \(rows)x\(columns)")
            }
        }
    }

    @Test func nonFiniteSixteenBitPatternsAreFound() {
        var words = [UInt16](repeating: 0x3F80, count: 10_000)
        #expect(HalfKernels.firstNonFinite(.bf16, words, count: words.count) == nil)
        words[9_001] = 0x7F80  // bf16 +inf
        words[9_500] = 0xFFC1  // bf16 NaN
        #expect(HalfKernels.firstNonFinite(.bf16, words, count: words.count) == 9_001)
        var halves = [UInt16](repeating: 0x7BFF, count: 5_000)  // f16 max finite 65504
        #expect(HalfKernels.firstNonFinite(.f16, halves, count: halves.count) == nil)
        halves[4_999] = 0xFC00  // f16 -inf
        #expect(HalfKernels.firstNonFinite(.f16, halves, count: halves.count) == 4_999)
    }
}

func floatValue(_ bits: UInt16, _ format: StorageFormat) -> Float {
    format == .bf16 ? Float(bitPattern: UInt32(bits) << 16) : Float(Float16(bitPattern: bits))
}

func narrowed(_ value: Float, _ format: StorageFormat) -> UInt16 {
    format == .bf16 ? HalfPrecision.narrowToBFloat16(value) : Float16(value).bitPattern
}

/// A small deterministic generator for test data.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in (-1, 1).
    mutating func unit() -> Float { Float(next() >> 40) / Float(1 << 24) * 2 - 1 }

    /// A random value in (-1, 1) as 16-bit bits, including small and subnormal magnitudes now and then.
    mutating func half(_ format: StorageFormat) -> UInt16 {
        let value = next() % 16 == 0 ? unit() * 1e-6 : unit()
        return format == .bf16 ? HalfPrecision.narrowToBFloat16(value) : Float16(value).bitPattern
    }
}
