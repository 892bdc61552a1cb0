import Testing
import Kernels
import Foundation

/// The fused prefill attention kernel (`ck_attention_prefill`: tiles of 64 cells, a running softmax, items of
/// about 128 query rows shared by two threads) against a direct computation in double precision, and against
/// the weights it reports when asked. Covers pruned widths (not multiples of 8 or
/// 16), query groups of 1, 2, 4 and 7, cells of other sequences and free cells, positions out of storage
/// order (after truncation and placement), sliding windows, queries that see nothing, and cell counts that
/// end inside a tile and a panel.
@Suite struct PrefillAttentionTests {
    struct Case: CustomStringConvertible {
        var heads, kvHeads, dk, dv, cells, queries: Int
        var shuffled = false
        var window: Int32? = nil
        /// Cells of another sequence and free cells among the query's (every 11th and 13th), or none.
        var foreign = true
        /// The first `foreignPrefix` cells belong to another sequence (whole segments and tiles with nothing visible).
        var foreignPrefix = 0
        /// Other sequences' and free cells hold NaN keys and values (stale memory must not leak into the output).
        var poisoned = false
        var description: String {
            "h\(heads)/\(kvHeads) dk \(dk) dv \(dv) cells \(cells) queries \(queries) shuffled \(shuffled) window \(window.map(String.init) ?? "-") foreign \(foreign) prefix \(foreignPrefix) poisoned \(poisoned)"
        }
    }

    struct Inputs {
        var q, keys, values: [Float]
        var positions, sequences, queryPositions: [Int32]
    }

    static func inputs(_ c: Case) -> Inputs {
        var state: UInt64 = UInt64(c.cells * 7919 + c.queries * 31 + c.dk)
        func next() -> Float {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 500
        }
        let q = (0..<(c.queries * c.heads * c.dk)).map { _ in next() }
        var keys = (0..<(c.cells * c.kvHeads * c.dk)).map { _ in next() }
        var values = (0..<(c.cells * c.kvHeads * c.dv)).map { _ in next() }
        // Shuffled: cell i holds position (i * 37) mod cells (37 is coprime to every count used here).
        let positions = (0..<c.cells).map { Int32(c.shuffled ? ($0 * 37) % c.cells : $0) }
        let sequences: [Int32] = (0..<c.cells).map { cell in
            if cell < c.foreignPrefix { return 1 }
            guard c.foreign else { return 0 }
            return cell % 11 == 3 ? 1 : (cell % 13 == 5 ? -1 : 0)
        }
        if c.poisoned {
            for cell in 0..<c.cells where sequences[cell] != 0 {
                for i in 0..<(c.kvHeads * c.dk) { keys[cell * c.kvHeads * c.dk + i] = .nan }
                for i in 0..<(c.kvHeads * c.dv) { values[cell * c.kvHeads * c.dv + i] = .nan }
            }
        }
        // The queries are the last positions; with shuffling, the first query is placed before every cell of
        // its sequence's first tile but one, and one query sits at -1 (sees nothing).
        var queryPositions = (0..<c.queries).map { Int32(c.cells - c.queries + $0) }
        if c.shuffled, c.queries > 2 { queryPositions[0] = 2; queryPositions[1] = -1 }
        return Inputs(q: q, keys: keys, values: values, positions: positions, sequences: sequences, queryPositions: queryPositions)
    }

    /// Runs `Attention.compute`; with `capturing`, asking for the weights `[queries, heads, cells]` too.
    static func run(_ c: Case, _ x: Inputs, capturing: Bool) -> (out: [Float], weights: [Float]) {
        let shape = Attention.Shape(heads: c.heads, kvHeads: c.kvHeads, headDimension: 64, keyDimension: c.dk, valueDimension: c.dv)
        var out = [Float](repeating: .nan, count: c.queries * c.heads * c.dv)
        var scores = [Float](repeating: .nan, count: Attention.scratchCount(shape: shape, queries: c.queries, cells: c.cells, capturing: capturing))
        var weights = [Float](repeating: 0, count: capturing ? c.queries * c.heads * c.cells : 0)
        x.positions.withUnsafeBufferPointer { p in
            x.sequences.withUnsafeBufferPointer { s in
                x.queryPositions.withUnsafeBufferPointer { qp in
                    weights.withUnsafeMutableBufferPointer { w in
                        let mask = AttentionMask(cellPositions: p.baseAddress!, cellSequences: s.baseAddress!,
                                                 queryPositions: qp.baseAddress!, sequence: 0, window: c.window)
                        Attention.compute(shape: shape, q: x.q, queries: c.queries, keys: x.keys, values: x.values, cells: c.cells,
                                          mask: mask, scores: &scores, out: &out, probabilities: capturing ? w.baseAddress : nil)
                    }
                }
            }
        }
        return (out, weights)
    }

    /// Direct computation in double precision.
    static func direct(_ c: Case, _ x: Inputs) -> [Float] {
        let group = c.heads / c.kvHeads
        var out = [Float](repeating: 0, count: c.queries * c.heads * c.dv)
        for t in 0..<c.queries {
            let p = x.queryPositions[t]
            for h in 0..<c.heads {
                let kv = h / group
                let scores: [Double] = (0..<c.cells).map { cell in
                    let position = x.positions[cell]
                    guard x.sequences[cell] == 0, position <= p, c.window.map({ Int64(position) > Int64(p) - Int64($0) }) ?? true else {
                        return -.infinity
                    }
                    var sum = 0.0
                    for i in 0..<c.dk { sum += Double(x.q[(t * c.heads + h) * c.dk + i]) * Double(x.keys[(cell * c.kvHeads + kv) * c.dk + i]) }
                    return sum / 8  // 1 / sqrt(headDimension 64)
                }
                let top = scores.max() ?? -.infinity
                guard top > -.infinity else { continue }  // sees nothing: zeros
                let weights = scores.map { $0 == -.infinity ? 0 : Foundation.exp($0 - top) }
                let total = weights.reduce(0, +)
                for i in 0..<c.dv {
                    var sum = 0.0
                    for cell in 0..<c.cells where weights[cell] > 0 { sum += weights[cell] * Double(x.values[(cell * c.kvHeads + kv) * c.dv + i]) }
                    out[(t * c.heads + h) * c.dv + i] = Float(sum / total)
                }
            }
        }
        return out
    }

    static func worst(_ a: [Float], _ b: [Float]) -> Float {
        guard a.count == b.count else { return .infinity }
        var worst: Float = 0
        for (x, y) in zip(a, b) {
            let d = abs(x - y)
            if !(d <= worst) { worst = d.isNaN ? .infinity : d }
        }
        return worst
    }

    static let cases: [Case] = [
        Case(heads: 4, kvHeads: 2, dk: 4, dv: 4, cells: 9, queries: 3),
        Case(heads: 8, kvHeads: 2, dk: 44, dv: 45, cells: 130, queries: 17, shuffled: true),
        Case(heads: 7, kvHeads: 1, dk: 22, dv: 19, cells: 65, queries: 5, window: 9),
        Case(heads: 3, kvHeads: 3, dk: 64, dv: 64, cells: 64, queries: 2),
        Case(heads: 4, kvHeads: 4, dk: 12, dv: 13, cells: 100, queries: 40, shuffled: true, window: 30),
        Case(heads: 2, kvHeads: 1, dk: 128, dv: 96, cells: 70, queries: 9),
        Case(heads: 6, kvHeads: 2, dk: 18, dv: 7, cells: 1, queries: 2),
        // One sequence only: whole tiles take the unmasked path.
        Case(heads: 8, kvHeads: 2, dk: 64, dv: 64, cells: 300, queries: 100, foreign: false),
        // NaN keys and values in other sequences' and free cells, and tiles that hold none of the query's cells.
        Case(heads: 4, kvHeads: 2, dk: 44, dv: 45, cells: 260, queries: 30, foreignPrefix: 130, poisoned: true),
        // Several items per KV head (18 tokens of 7 heads, 32 of 4, 128 of 1), shared by both threads.
        Case(heads: 14, kvHeads: 2, dk: 64, dv: 64, cells: 300, queries: 40),
        Case(heads: 8, kvHeads: 2, dk: 44, dv: 45, cells: 333, queries: 70, shuffled: true),
        Case(heads: 2, kvHeads: 2, dk: 96, dv: 128, cells: 515, queries: 260, window: 200),
    ]

    @Test(arguments: cases.indices)
    func fusedMatchesDirectComputation(index: Int) {
        let c = Self.cases[index]
        let x = Self.inputs(c)
        #expect(Self.worst(Self.run(c, x, capturing: false).out, Self.direct(c, x)) < 2e-5, "\(c)")
    }

    /// Decode (one query) through the streaming kernel: segments of 128+ cells with nothing visible (another
    /// sequence's prefix), windows, poisoned foreign cells, shuffled positions, both threads.
    static let decodeCases: [Case] = [
        Case(heads: 14, kvHeads: 2, dk: 64, dv: 64, cells: 700, queries: 1, foreignPrefix: 300, poisoned: true),
        Case(heads: 8, kvHeads: 2, dk: 44, dv: 45, cells: 900, queries: 1, shuffled: true, window: 250),
        Case(heads: 4, kvHeads: 4, dk: 22, dv: 19, cells: 520, queries: 1, window: 40, foreign: false),
    ]

    @Test(arguments: decodeCases.indices)
    func decodeMatchesDirectComputation(index: Int) {
        let c = Self.decodeCases[index]
        let x = Self.inputs(c)
        #expect(Self.worst(Self.run(c, x, capturing: false).out, Self.direct(c, x)) < 2e-5, "\(c)")
    }

    /// Capturing the weights does not change the output (they are computed apart), and the weights are the
    /// softmax the output was made with: their weighted values equal it.
    @Test func capturedWeightsGiveTheSameOutput() {
        let c = Case(heads: 8, kvHeads: 2, dk: 44, dv: 45, cells: 200, queries: 30, shuffled: true, window: 90)
        let x = Self.inputs(c)
        let (plain, _) = Self.run(c, x, capturing: false)
        let (captured, weights) = Self.run(c, x, capturing: true)
        #expect(Self.worst(plain, captured) == 0)
        var fromWeights = [Float](repeating: 0, count: plain.count)
        let group = c.heads / c.kvHeads
        for line in 0..<(c.queries * c.heads) {
            let kv = (line % c.heads) / group
            for cell in 0..<c.cells where weights[line * c.cells + cell] != 0 {
                for i in 0..<c.dv { fromWeights[line * c.dv + i] += weights[line * c.cells + cell] * x.values[(cell * c.kvHeads + kv) * c.dv + i] }
            }
        }
        #expect(Self.worst(plain, fromWeights) < 2e-5)
    }
}
