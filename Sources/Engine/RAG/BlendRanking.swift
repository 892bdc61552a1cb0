import Cache
import Kernels
import Models

/// How much recomputing each chunk row would help, from the fresh projections at the check layer (chunk
/// rows first, then query rows) and what the cache holds there (the reused K/V), read through the cache's
/// views so that it is right for every key-storage mode. The products over visible cells and chunk rows are
/// dense matrix products per KV head (`DenseProduct`). Shapes: `d` head size, `kv` kv heads, `n` visible cells.
struct BlendRanking {
    let fresh: FreshProjections
    let chunkRows: Int
    /// Positions the query attends to at the check layer (prefix and chunks), ascending.
    let visible: [Int]
    /// Reused keys (rotated) and values of the chunk rows: `[chunkRows, kv, d]`.
    let cachedKeys: [Float]
    let cachedValues: [Float]
    /// Values at `visible`: `[n, kv, dv]`.
    let visibleValues: [Float]
    /// Attention of the query rows over `visible` with the reused keys: `[queryRows, heads, n]`.
    let weights: [Float]

    init(fresh: FreshProjections, chunkRows: Int, cache: KVCache, sequence: Int, visible: [Int]) throws {
        self.fresh = fresh
        self.chunkRows = chunkRows
        self.visible = visible
        let chunkPositions = Array(fresh.positions.prefix(chunkRows))
        cachedKeys = try cache.keys(layer: fresh.layer, sequence: sequence, positions: chunkPositions)
        cachedValues = try cache.values(layer: fresh.layer, sequence: sequence, positions: chunkPositions)
        visibleValues = try cache.values(layer: fresh.layer, sequence: sequence, positions: visible)
        let visibleKeys = try cache.keys(layer: fresh.layer, sequence: sequence, positions: visible)
        weights = Self.attention(fresh: fresh, chunkRows: chunkRows, keys: visibleKeys, cells: visible.count)
    }

    var queryRows: Int { fresh.rows - chunkRows }

    func scores(_ deviation: BlendParameters.Deviation) -> [Float] {
        switch deviation {
        case .keys, .values, .both: return kvDeviation(keys: deviation != .values, values: deviation != .keys)
        case .attention: return attentionWeighted()
        case .output: return outputChange()
        }
    }

    /// The queries of KV head `g`'s query heads, `[queryRows * group, dk]` (row `q * group + i` is head `g * group + i`).
    private static func groupQueries(_ fresh: FreshProjections, chunkRows: Int, kvHead g: Int) -> [Float] {
        let dk = fresh.keyDimension, group = fresh.heads / fresh.kvHeads, rows = fresh.rows - chunkRows
        var out = [Float](repeating: 0, count: rows * group * dk)
        for q in 0..<rows {
            let source = ((chunkRows + q) * fresh.heads + g * group) * dk
            for i in 0..<(group * dk) { out[q * group * dk + i] = fresh.queries[source + i] }
        }
        return out
    }

    /// Softmax attention of the query rows over `cells` keys (`[cells, kv, dk]`): `[queryRows, heads, cells]`.
    private static func attention(fresh: FreshProjections, chunkRows: Int, keys: [Float], cells n: Int) -> [Float] {
        let heads = fresh.heads, kv = fresh.kvHeads, dk = fresh.keyDimension, group = heads / kv, rows = fresh.rows - chunkRows
        var weights = [Float](repeating: 0, count: rows * heads * n)
        guard n > 0, rows > 0 else { return weights }
        let scale = 1 / Float(fresh.headDimension).squareRoot()
        var scores = [Float](repeating: 0, count: rows * group * n)
        for g in 0..<kv {
            let queries = groupQueries(fresh, chunkRows: chunkRows, kvHead: g)
            DenseProduct.dots(queries, rows: rows * group, lda: dk, keys, startingAt: g * dk, rows: n, ldb: kv * dk, depth: dk, alpha: scale,
                              into: &scores, ldc: n)
            Elementwise.softmaxRows(&scores, rows: rows * group, width: n)
            for q in 0..<rows {
                let target = (q * heads + g * group) * n
                for i in 0..<(group * n) { weights[target + i] = scores[q * group * n + i] }
            }
        }
        return weights
    }

    /// Squared L2 distance of fresh and reused K (and/or V) per row and kv head: `[chunkRows, kv]`.
    private func deviations(keys useKeys: Bool, values useValues: Bool) -> [Float] {
        let kv = fresh.kvHeads, dk = fresh.keyDimension, dv = fresh.valueDimension
        var out = [Float](repeating: 0, count: chunkRows * kv)
        for row in 0..<chunkRows {
            for g in 0..<kv {
                var total: Float = 0
                let keyBase = (row * kv + g) * dk
                let valueBase = (row * kv + g) * dv
                if useKeys { for i in keyBase..<(keyBase + dk) { let e = fresh.keys[i] - cachedKeys[i]; total += e * e } }
                if useValues { for i in valueBase..<(valueBase + dv) { let e = fresh.values[i] - cachedValues[i]; total += e * e } }
                out[row * kv + g] = total
            }
        }
        return out
    }

    /// The CacheBlend paper's ranking: K and/or V deviation summed over kv heads.
    private func kvDeviation(keys: Bool, values: Bool) -> [Float] {
        let kv = fresh.kvHeads
        let perHead = deviations(keys: keys, values: values)
        return (0..<chunkRows).map { row in (0..<kv).reduce(Float(0)) { $0 + perHead[row * kv + $1] } }
    }

    /// Index in `visible` of each chunk row (chunk positions are visible by construction).
    private var visibleIndexOfChunkRow: [Int] {
        var index: [Int: Int] = [:]
        for (i, position) in visible.enumerated() { index[position] = i }
        return (0..<chunkRows).map { index[fresh.positions[$0]] ?? -1 }
    }

    /// K+V deviation per head weighted by the mean attention the query rows give the row.
    private func attentionWeighted() -> [Float] {
        let heads = fresh.heads, kv = fresh.kvHeads, n = visible.count
        let group = heads / kv
        let perHead = deviations(keys: true, values: true)
        let columns = visibleIndexOfChunkRow
        return (0..<chunkRows).map { row in
            guard columns[row] >= 0, queryRows > 0 else { return 0 }
            var total: Float = 0
            for h in 0..<heads {
                var mean: Float = 0
                for q in 0..<queryRows { mean += weights[(q * heads + h) * n + columns[row]] }
                total += mean / Float(queryRows) * perHead[row * kv + h / group]
            }
            return total
        }
    }

    /// First-order change of the query rows' attention output if row `j` got its fresh K/V: per query row
    /// and head, `p_j · ‖Δv_j + Δs_j (v_j − ō)‖`, with `p` the attention over the reused cache, `ō` its
    /// output and `Δs_j = q · Δk_j / √d`; summed over query rows and heads. The norm is expanded,
    /// `‖Δv‖² + 2Δs (Δv·v − Δv·ō) + Δs² (‖v‖² − 2 v·ō + ‖ō‖²)`, so that every cross term is a matrix product.
    private func outputChange() -> [Float] {
        let heads = fresh.heads, kv = fresh.kvHeads, dk = fresh.keyDimension, dv = fresh.valueDimension, n = visible.count
        let group = heads / kv
        let rows = queryRows * group  // (query row, head of the group) pairs
        let scale = 1 / Float(fresh.headDimension).squareRoot()
        let columns = visibleIndexOfChunkRow
        var scores = [Float](repeating: 0, count: chunkRows)
        guard rows > 0, chunkRows > 0 else { return scores }
        var probabilities = [Float](repeating: 0, count: rows * n)
        var outputs = [Float](repeating: 0, count: rows * dv)
        var keyChange = [Float](repeating: 0, count: chunkRows * dk)
        var valueChange = [Float](repeating: 0, count: chunkRows * dv)
        var shift = [Float](repeating: 0, count: rows * chunkRows)        // Δs
        var changeDotOutput = [Float](repeating: 0, count: rows * chunkRows)  // Δv·ō
        var valueDotOutput = [Float](repeating: 0, count: rows * chunkRows)   // v·ō
        for g in 0..<kv {
            let queries = Self.groupQueries(fresh, chunkRows: chunkRows, kvHead: g)
            for q in 0..<queryRows {
                let source = (q * heads + g * group) * n
                for i in 0..<(group * n) { probabilities[q * group * n + i] = weights[source + i] }
            }
            var changeNorm = [Float](repeating: 0, count: chunkRows), changeDotValue = changeNorm, valueNorm = changeNorm
            for row in 0..<chunkRows {
                let k = (row * kv + g) * dk, v = (row * kv + g) * dv
                for i in 0..<dk { keyChange[row * dk + i] = fresh.keys[k + i] - cachedKeys[k + i] }
                for i in 0..<dv {
                    let change = fresh.values[v + i] - cachedValues[v + i], value = cachedValues[v + i]
                    valueChange[row * dv + i] = change
                    changeNorm[row] += change * change
                    changeDotValue[row] += change * value
                    valueNorm[row] += value * value
                }
            }
            DenseProduct.weighted(probabilities, rows: rows, lda: n, visibleValues, startingAt: g * dv, columns: dv, ldb: kv * dv, depth: n,
                                  into: &outputs, ldc: dv)
            DenseProduct.dots(queries, rows: rows, lda: dk, keyChange, rows: chunkRows, ldb: dk, depth: dk, alpha: scale, into: &shift,
                              ldc: chunkRows)
            DenseProduct.dots(outputs, rows: rows, lda: dv, valueChange, rows: chunkRows, ldb: dv, depth: dv, into: &changeDotOutput,
                              ldc: chunkRows)
            DenseProduct.dots(outputs, rows: rows, lda: dv, cachedValues, startingAt: g * dv, rows: chunkRows, ldb: kv * dv, depth: dv,
                              into: &valueDotOutput, ldc: chunkRows)
            for pair in 0..<rows {
                var outputNorm: Float = 0
                for i in 0..<dv { outputNorm += outputs[pair * dv + i] * outputs[pair * dv + i] }
                let base = pair * chunkRows
                for row in 0..<chunkRows where columns[row] >= 0 {
                    let ds = shift[base + row]
                    let squared = changeNorm[row] + 2 * ds * (changeDotValue[row] - changeDotOutput[base + row])
                        + ds * ds * (valueNorm[row] - 2 * valueDotOutput[base + row] + outputNorm)
                    scores[row] += probabilities[pair * n + columns[row]] * max(squared, 0).squareRoot()
                }
            }
        }
        return scores
    }
}
