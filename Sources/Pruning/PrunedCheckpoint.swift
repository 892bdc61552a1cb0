import Foundation
import Models

/// Writes a pruned checkpoint: the source's tensors with the pruned rows of `q_proj`, `k_proj`, `v_proj`
/// (and their biases) and columns of `o_proj` removed, q/k rows in the slot order of
/// `RopePruning.keyRows` (a zero row pads an odd count of lone channels), each tensor in its source dtype,
/// one `model.safetensors`; `config.json` with the `rope_aligned_pruning` field (`RopePruning`); every
/// other file of the source directory (tokenizer, generation config) copied.
public enum PrunedCheckpoint {

    public static func write(source: URL, config: ModelConfig, pruning: RopePruning, to output: URL) throws {
        guard config.pruning == nil else {
            throw PruningError.invalidParameter(name: "--model", reason: "is already pruned: prune the original checkpoint")
        }
        try pruning.check(config)
        let manager = FileManager.default
        do { try manager.createDirectory(at: output, withIntermediateDirectories: true) } catch {
            throw PruningError.unwritable(path: output.path, reason: error.localizedDescription)
        }
        let checkpoint = try Checkpoint(directory: source)
        var writer = SafeTensorsWriter()
        for info in checkpoint.tensorInfos {
            var values = [Float](repeating: 0, count: info.elementCount)
            try values.withUnsafeMutableBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                try checkpoint.read(info.name, shape: info.shape, into: base)
            }
            let (shape, kept) = try select(info.name, shape: info.shape, values: values, config: config, pruning: pruning)
            writer.add(info.name, shape: shape, values: kept, dtype: info.dtype)
        }
        try writer.write(to: output.appendingPathComponent("model.safetensors"))
        try writeConfig(source: source, pruning: pruning, to: output)
        let skipped: Set<String> = ["config.json", "model.safetensors", "model.safetensors.index.json"]
        for name in (try? manager.contentsOfDirectory(atPath: source.path)) ?? []
        where !skipped.contains(name) && !name.hasSuffix(".safetensors") {
            let target = output.appendingPathComponent(name)
            try? manager.removeItem(at: target)
            do { try manager.copyItem(at: source.appendingPathComponent(name), to: target) } catch {
                throw PruningError.unwritable(path: target.path, reason: error.localizedDescription)
            }
        }
    }

    /// The kept part of tensor `name`: rows of q/k/v projections (weights and biases), columns of o_proj.
    static func select(_ name: String, shape: [Int], values: [Float], config: ModelConfig,
                       pruning: RopePruning) throws -> (shape: [Int], values: [Float]) {
        let parts = name.split(separator: ".")
        guard parts.count == 6, parts[0] == "model", parts[1] == "layers", let layer = Int(parts[2]), layer >= 0,
              layer < config.layers, parts[3] == "self_attn" else { return (shape, values) }
        let d = config.headDimension, group = config.heads / config.kvHeads
        let channels = pruning.keptValueChannels[layer]
        func keyRows(_ head: Int, kvHead: Int) -> [Int?] {
            pruning.keyRows(layer: layer, head: kvHead, headDimension: d).map { $0.map { head * d + $0 } }
        }
        let rows: [Int?]
        switch parts[4] {
        case "q_proj": rows = (0..<config.heads).flatMap { h in keyRows(h, kvHead: h / group) }
        case "k_proj": rows = (0..<config.kvHeads).flatMap { g in keyRows(g, kvHead: g) }
        case "v_proj": rows = (0..<config.kvHeads).flatMap { g in channels[g].map { g * d + $0 } }
        case "o_proj":
            guard shape.count == 2 else { return (shape, values) }
            let columns = (0..<config.heads).flatMap { h in channels[h / group].map { h * d + $0 } }
            let width = shape[1]
            var kept = [Float]()
            kept.reserveCapacity(shape[0] * columns.count)
            for r in 0..<shape[0] { for c in columns { kept.append(values[r * width + c]) } }
            return ([shape[0], columns.count], kept)
        default: return (shape, values)
        }
        let width = shape.count == 2 ? shape[1] : 1
        var kept = [Float]()
        kept.reserveCapacity(rows.count * width)
        for row in rows {
            if let r = row { kept.append(contentsOf: values[(r * width)..<((r + 1) * width)]) } else {
                kept.append(contentsOf: repeatElement(0, count: width))
            }
        }
        return (shape.count == 2 ? [rows.count, width] : [rows.count], kept)
    }

    private static func writeConfig(source: URL, pruning: RopePruning, to output: URL) throws {
        let url = source.appendingPathComponent("config.json")
        guard let data = FileManager.default.contents(atPath: url.path),
              var json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ModelError.invalidConfig(file: url.path, field: "(root)", reason: "is not a readable JSON object")
        }
        json["rope_aligned_pruning"] = pruning.jsonObject
        let text = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
        let target = output.appendingPathComponent("config.json")
        do { try text.write(to: target) } catch { throw PruningError.unwritable(path: target.path, reason: error.localizedDescription) }
    }
}

extension RopePruning {
    /// Checks the lists against `config` (what the loader will check), before anything is written.
    func check(_ config: ModelConfig) throws {
        _ = try ModelConfig(architecture: config.architecture, hiddenSize: config.hiddenSize, intermediateSize: config.intermediateSize,
                            layers: config.layers, heads: config.heads, kvHeads: config.kvHeads, headDimension: config.headDimension,
                            vocabularySize: config.vocabularySize, pruning: self)
    }
}
