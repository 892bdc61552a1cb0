extension RopePruning {
    /// Throws `ModelError.invalidConfig` naming the field unless every list has one entry per layer and KV head
    /// (`layers` x `kvHeads` heads of `headDimension`), strictly ascending and in range; every head has the
    /// same number `S >= 1` of rotation slots (`pairs + lone`; without lone channels: of kept pairs); a lone
    /// channel's pair is not kept whole, nor are both its halves lone (that is a kept pair); every head keeps
    /// the same number `>= 1` of value channels.
    func validate(layers: Int, kvHeads: Int, headDimension: Int, file: String) throws {
        let field = "rope_aligned_pruning."
        func failure(_ name: String, _ reason: String) -> ModelError {
            ModelError.invalidConfig(file: file, field: field + name, reason: reason)
        }
        /// Shape, order and range of one list; `width` set: every head holds exactly that many.
        func check(_ value: [[[Int]]], _ name: String, bound: Int, width: Int?) throws {
            guard value.count == layers else { throw failure(name, "must list \(layers) layers, found \(value.count)") }
            if let width, width < 1 || width > bound { throw failure(name, "must keep between 1 and \(bound) per head, found \(width)") }
            for (layer, heads) in value.enumerated() {
                guard heads.count == kvHeads else { throw failure(name, "[\(layer)] must list \(kvHeads) KV heads, found \(heads.count)") }
                for (head, kept) in heads.enumerated() {
                    if let width, kept.count != width {
                        throw failure(name, "[\(layer)][\(head)] keeps \(kept.count), every head must keep the same number (\(width))")
                    }
                    for (index, item) in kept.enumerated() {
                        guard item >= 0, item < bound else { throw failure(name, "[\(layer)][\(head)] holds \(item), outside [0, \(bound))") }
                        guard index == 0 || kept[index - 1] < item else {
                            throw failure(name, "[\(layer)][\(head)] must be strictly ascending, found \(kept.prefix(index + 1))")
                        }
                    }
                }
            }
        }
        let half = headDimension / 2
        if loneChannels.isEmpty {
            try check(keptPairs, "kept_pairs", bound: half, width: keptPairs.first?.first?.count ?? 0)
        } else {
            try check(keptPairs, "kept_pairs", bound: half, width: nil)
            try check(loneChannels, "lone_channels", bound: headDimension, width: nil)
            let slots = slotsPerHead
            guard slots >= 1, slots <= half else { throw failure("lone_channels", "must give between 1 and \(half) rotation slots per head, found \(slots)") }
            for layer in 0..<layers {
                for head in 0..<kvHeads {
                    let pairs = keptPairs[layer][head], lone = loneChannels[layer][head]
                    let count = pairs.count + lone.count
                    guard count == slots else {
                        throw failure("lone_channels", "[\(layer)][\(head)] gives \(count) rotation slots (pairs + lone), every head must give the same number (\(slots))")
                    }
                    let halves = Set(lone)
                    for channel in lone {
                        let pair = channel % half
                        guard !pairs.contains(pair) else {
                            throw failure("lone_channels", "[\(layer)][\(head)] holds \(channel), whose pair \(pair) is kept whole")
                        }
                        guard channel >= half || !halves.contains(channel + half) else {
                            throw failure("lone_channels", "[\(layer)][\(head)] holds both halves of pair \(pair): list it in kept_pairs")
                        }
                    }
                }
            }
        }
        try check(keptValueChannels, "kept_value_channels", bound: headDimension, width: keptValueChannels.first?.first?.count ?? 0)
    }
}
