import Foundation

/// Byte-pair encoding over a vocabulary and ranked merges (tokenizers' `models.BPE`).
///
/// Merges are applied lowest rank first, leftmost first, with a heap, so a long unsplit text
/// (SentencePiece-style tokenizers have no pre-tokenizer) encodes in O(n log n).
struct BPEModel: Sendable {
    let vocabulary: TokenIDs
    /// `(left id, right id)` packed into a UInt64 → (rank, merged id).
    let merges: [UInt64: (rank: Int, merged: Int)]
    let unknownID: Int?
    let fuseUnknown: Bool
    let byteFallback: Bool
    let ignoreMerges: Bool
    /// `[256]` id of `<0xXX>` for each byte, when byte fallback is on.
    /// - vocabulary: token → id, every id validated by `Vocabulary`.
    let byteIDs: [Int?]

    init(vocabulary: TokenIDs, merges: [(String, String)], unknownToken: String?, fuseUnknown: Bool,
         byteFallback: Bool, ignoreMerges: Bool) throws {
        self.vocabulary = vocabulary
        var table: [UInt64: (Int, Int)] = [:]
        for (rank, (left, right)) in merges.enumerated() {
            guard let a = vocabulary[left], let b = vocabulary[right], let merged = vocabulary[left + right] else {
                let missing = [left, right].first { vocabulary[$0] == nil } ?? left + right
                throw TokenizerError.invalid("model.merges[\(rank)]", "token \(Vocabulary.quoted(missing)) is not in model.vocab")
            }
            let key = Self.key(a, b)
            if table[key] == nil { table[key] = (rank, merged) }
        }
        self.merges = table
        unknownID = unknownToken.flatMap { vocabulary[$0] }
        self.fuseUnknown = fuseUnknown
        self.byteFallback = byteFallback
        self.ignoreMerges = ignoreMerges
        byteIDs = (0..<256).map { vocabulary[String(format: "<0x%02X>", $0)] }
    }

    /// Both ids in one key. Ids are in [0, `Vocabulary.maximumCount`), checked at load, so they fit 32 bits.
    @inline(__always) static func key(_ a: Int, _ b: Int) -> UInt64 {
        UInt64(UInt32(truncatingIfNeeded: a)) << 32 | UInt64(UInt32(truncatingIfNeeded: b))
    }

    /// Token ids of one pre-tokenized piece.
    func encode(_ word: String) -> [Int] {
        if ignoreMerges, let id = vocabulary[word] { return [id] }
        var symbols: [Int] = []
        symbols.reserveCapacity(word.unicodeScalars.count)
        var previousWasUnknown = false
        for scalar in word.unicodeScalars {
            let text = String(scalar)
            if let id = vocabulary[text] {
                symbols.append(id)
                previousWasUnknown = false
            } else if byteFallback, case let bytes = text.utf8.compactMap({ byteIDs[Int($0)] }), bytes.count == text.utf8.count {
                symbols.append(contentsOf: bytes)
                previousWasUnknown = false
            } else if let unknownID {
                if !(fuseUnknown && previousWasUnknown) { symbols.append(unknownID) }
                previousWasUnknown = true
            }
        }
        return merge(symbols)
    }

    /// Applies merges to a symbol sequence: a doubly linked list plus a min-heap of candidate pairs.
    private func merge(_ initial: [Int]) -> [Int] {
        var ids = initial
        let count = ids.count
        guard count > 1 else { return ids }
        var next = Array(1...count)
        next[count - 1] = -1
        var previous = Array(-1..<(count - 1))
        var alive = [Bool](repeating: true, count: count)
        var heap = PairHeap()
        for i in 0..<(count - 1) {
            if let merge = merges[Self.key(ids[i], ids[i + 1])] { heap.push(rank: merge.rank, position: i) }
        }
        while let top = heap.pop() {
            let i = top.position
            let j = next[i]
            guard alive[i], j >= 0, let merge = merges[Self.key(ids[i], ids[j])], merge.rank == top.rank else { continue }
            ids[i] = merge.merged
            alive[j] = false
            next[i] = next[j]
            if next[j] >= 0 { previous[next[j]] = i }
            if previous[i] >= 0, let left = merges[Self.key(ids[previous[i]], ids[i])] {
                heap.push(rank: left.rank, position: previous[i])
            }
            if next[i] >= 0, let right = merges[Self.key(ids[i], ids[next[i]])] {
                heap.push(rank: right.rank, position: i)
            }
        }
        var result: [Int] = []
        var i = 0
        while i >= 0 {
            result.append(ids[i])
            i = next[i]
        }
        return result
    }
}

/// A binary min-heap of merge candidates ordered by (rank, position).
struct PairHeap {
    private var items: [(rank: Int, position: Int)] = []

    private static func less(_ a: (rank: Int, position: Int), _ b: (rank: Int, position: Int)) -> Bool {
        a.rank != b.rank ? a.rank < b.rank : a.position < b.position
    }

    mutating func push(rank: Int, position: Int) {
        items.append((rank, position))
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.less(items[child], items[parent]) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> (rank: Int, position: Int)? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < items.count, Self.less(items[left], items[smallest]) { smallest = left }
                if right < items.count, Self.less(items[right], items[smallest]) { smallest = right }
                if smallest == parent { break }
                items.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return top
    }
}
