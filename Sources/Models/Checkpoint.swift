import Foundation
import Kernels

/// All tensors of a checkpoint directory: one `model.safetensors`, or shards listed in
/// `model.safetensors.index.json`. Resolves tied-weight aliases stored in `__metadata__`
/// (`"model.embed_tokens.weight": "lm_head.weight"`).
public final class Checkpoint {
    public let directory: URL
    public let files: [SafeTensorsFile]
    private var locations: [String: (file: SafeTensorsFile, info: TensorInfo)] = [:]
    private var aliases: [String: String] = [:]

    public init(directory: URL) throws {
        self.directory = directory
        let single = directory.appendingPathComponent("model.safetensors")
        let index = directory.appendingPathComponent("model.safetensors.index.json")
        var paths: [String]
        if FileManager.default.fileExists(atPath: index.path) {
            guard let data = FileManager.default.contents(atPath: index.path),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let weightMap = object["weight_map"] as? [String: String] else {
                throw ModelError.invalidSafetensors(file: "model.safetensors.index.json", reason: "needs a 'weight_map' object of tensor name -> file")
            }
            paths = Array(Set(weightMap.values)).sorted()
            for name in paths where name.contains("/") || name.hasPrefix(".") {
                throw ModelError.invalidSafetensors(file: "model.safetensors.index.json", reason: "shard name '\(name)' must be a file in the model directory")
            }
            paths = paths.map { directory.appendingPathComponent($0).path }
        } else if FileManager.default.fileExists(atPath: single.path) {
            paths = [single.path]
        } else {
            throw ModelError.fileNotFound(single.path + " (or model.safetensors.index.json)")
        }
        files = try paths.map { try SafeTensorsFile(path: $0) }
        for file in files {
            for (name, info) in file.tensors {
                if let other = locations[name] {
                    throw ModelError.invalidSafetensors(file: (file.path as NSString).lastPathComponent,
                                                        reason: "tensor '\(name)' is also stored in \((other.file.path as NSString).lastPathComponent)")
                }
                locations[name] = (file, info)
            }
            for (name, target) in file.metadata where name != "format" { aliases[name] = target }
        }
    }

    /// Whether the checkpoint stores `name` itself or through an alias.
    public func contains(_ name: String) -> Bool { locations[name] != nil || aliases[name].map { locations[$0] != nil } == true }

    /// Every tensor's header entry, sorted by name.
    public var tensorInfos: [TensorInfo] { locations.values.map(\.info).sorted { $0.name < $1.name } }

    /// The header entry of `name` (following an alias), checked to have `shape`; reads nothing.
    @discardableResult
    public func info(_ name: String, shape: [Int]) throws -> TensorInfo { try checked(name, shape: shape).info }

    /// Reads tensor `name` (following an alias) as f32 into `destination` (`shape` product floats), checking
    /// its shape first and rejecting NaN or infinite values.
    public func read(_ name: String, shape: [Int], into destination: UnsafeMutablePointer<Float>) throws {
        let (file, info) = try checked(name, shape: shape)
        file.read(info, into: destination)
        if let index = NonFiniteScan.firstNonFinite(destination, count: info.elementCount) {
            throw ModelError.nonFiniteWeight(file: (file.path as NSString).lastPathComponent, tensor: info.name, index: index)
        }
    }

    func checked(_ name: String, shape: [Int]) throws -> (file: SafeTensorsFile, info: TensorInfo) {
        guard let location = locations[name] ?? aliases[name].flatMap({ locations[$0] }) else { throw ModelError.missingTensor(name) }
        guard location.info.shape == shape else {
            throw ModelError.shapeMismatch(file: (location.file.path as NSString).lastPathComponent, tensor: name,
                                           expected: shape, found: location.info.shape)
        }
        return location
    }

    /// Reads tensor `name` into a new buffer of `shape` (checked against the header before allocating).
    public func buffer(_ name: String, shape: [Int]) throws -> FloatBuffer {
        let info = try info(name, shape: shape)
        let buffer = FloatBuffer(count: info.elementCount)
        try read(name, shape: shape, into: buffer.pointer)
        return buffer
    }

    /// The dtype most of the weight bytes are stored in.
    public var dominantDType: DType {
        var bytes: [DType: Int] = [:]
        // Cannot overflow: each range lies inside a file that is mapped in memory (< 2^47 bytes of address space).
        for (_, location) in locations { bytes[location.info.dtype, default: 0] += location.info.range.count }
        return bytes.max { $0.value < $1.value }?.key ?? .f32
    }
}
