/// Errors from reading a checkpoint or running a model. Each names the file, field or tensor at fault.
public enum ModelError: Error, Equatable, CustomStringConvertible {
    case fileNotFound(String)
    case unreadable(file: String, reason: String)
    case invalidConfig(file: String, field: String, reason: String)
    case unsupportedArchitecture(String)
    case unsupportedRopeType(String)
    case invalidSafetensors(file: String, reason: String)
    case unsupportedDType(file: String, tensor: String, dtype: String)
    case missingTensor(String)
    /// `file` holds `tensor` with shape `found`; the config implies `expected`.
    case shapeMismatch(file: String, tensor: String, expected: [Int], found: [Int])
    case invalidToken(Int, vocabularySize: Int)
    /// A weight is NaN or infinite; `index` is its element index in the tensor (row-major).
    case nonFiniteWeight(file: String, tensor: String, index: Int)
    case invalidInput(String)

    public var description: String {
        switch self {
        case .fileNotFound(let path): return "file not found: \(path)"
        case let .unreadable(file, reason): return "cannot read \(file): \(reason)"
        case let .invalidConfig(file, field, reason): return "\(file): field '\(field)' \(reason)"
        case .unsupportedArchitecture(let name):
            return "unsupported architecture '\(name)' (supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM)"
        case .unsupportedRopeType(let name):
            return "unsupported RoPE type '\(name)' (supported: default, linear, llama3, dynamic within the original context)"
        case let .invalidSafetensors(file, reason): return "\(file): invalid safetensors: \(reason)"
        case let .unsupportedDType(file, tensor, dtype):
            return "\(file): tensor '\(tensor)' has unsupported dtype \(dtype) (supported: F32, F16, BF16)"
        case .missingTensor(let name): return "checkpoint has no tensor '\(name)' (in model.safetensors or the shards of model.safetensors.index.json)"
        case let .shapeMismatch(file, tensor, expected, found):
            return "\(file): tensor '\(tensor)' has shape \(found), config.json implies \(expected)"
        case let .invalidToken(token, size): return "token id \(token) is outside the vocabulary [0, \(size))"
        case .invalidInput(let reason): return reason
        case let .nonFiniteWeight(file, tensor, index):
            return "\(file): tensor '\(tensor)' holds a NaN or infinite value at element \(index)"
        }
    }
}
