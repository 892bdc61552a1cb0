import Foundation

/// Element types a checkpoint may store.
public enum DType: String, Sendable {
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"

    public var byteCount: Int { self == .f32 ? 4 : 2 }
}

/// One tensor's entry in a safetensors header.
public struct TensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    /// Byte range within the data section (after the header); `range.count == elementCount * dtype.byteCount`.
    public let range: Range<Int>
    /// Product of `shape`; the header parser proved it does not overflow.
    public let elementCount: Int
}

/// The JSON header of a `.safetensors` file, validated in full: every tensor has a known dtype,
/// non-negative dimensions whose product (and byte size) does not overflow, `data_offsets` inside the data
/// section that match dtype × shape, and no two tensors' byte ranges overlap. Format:
/// https://github.com/huggingface/safetensors
public struct SafeTensorsHeader: Sendable, Equatable {
    public let tensors: [String: TensorInfo]
    /// `__metadata__` string pairs (e.g. tied-weight aliases).
    public let metadata: [String: String]

    /// - header: the JSON bytes; file: named in errors; dataLength: bytes after the header.
    public init(_ header: Data, file: String, dataLength: Int) throws {
        func invalid(_ reason: String) -> ModelError { ModelError.invalidSafetensors(file: file, reason: reason) }
        guard let document = try? JSONDecoder().decode(JSONValue.self, from: header), case .object(let json) = document else {
            throw invalid("header is not a JSON object")
        }
        var tensors: [String: TensorInfo] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in json {
            if name == "__metadata__" {
                guard case .object(let pairs) = value else { throw invalid("__metadata__ must be an object of strings") }
                for (key, item) in pairs {
                    guard case .string(let text) = item else { throw invalid("__metadata__ '\(key)' must be a string") }
                    metadata[key] = text
                }
                continue
            }
            tensors[name] = try Self.entry(name, value, dataLength: dataLength, invalid: invalid, file: file)
        }
        try Self.rejectOverlaps(tensors.values, invalid: invalid)
        self.tensors = tensors
        self.metadata = metadata
    }

    private static func entry(_ name: String, _ value: JSONValue, dataLength: Int, invalid: (String) -> ModelError,
                              file: String) throws -> TensorInfo {
        guard case .object(let entry) = value, case .string(let dtypeName)? = entry["dtype"],
              case .array(let shapeItems)? = entry["shape"], case .array(let offsetItems)? = entry["data_offsets"] else {
            throw invalid("tensor '\(name)' needs dtype, shape and data_offsets [begin, end]")
        }
        guard let dtype = DType(rawValue: dtypeName) else {
            throw ModelError.unsupportedDType(file: file, tensor: name, dtype: dtypeName)
        }
        let shape = try shapeItems.map { item -> Int in
            guard case .int(let dimension) = item, dimension >= 0 else {
                throw invalid("tensor '\(name)' shape must be a list of non-negative integers, found \(item.description) in it")
            }
            return dimension
        }
        guard offsetItems.count == 2, case .int(let begin) = offsetItems[0], case .int(let end) = offsetItems[1] else {
            throw invalid("tensor '\(name)' data_offsets must be two integers [begin, end]")
        }
        guard begin >= 0, begin <= end, end <= dataLength else {
            throw invalid("tensor '\(name)' data_offsets [\(begin), \(end)] fall outside the \(dataLength)-byte data section: truncated or corrupt")
        }
        var elements = 1
        for dimension in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw invalid("tensor '\(name)' shape \(shape) has more elements than an Int can count") }
            elements = product
        }
        let (bytes, overflow) = elements.multipliedReportingOverflow(by: dtype.byteCount)
        guard !overflow, bytes == end - begin else {
            throw invalid("tensor '\(name)' shape \(shape) × \(dtype.byteCount) bytes does not match its \(end - begin)-byte range")
        }
        return TensorInfo(name: name, dtype: dtype, shape: shape, range: begin..<end, elementCount: elements)
    }

    /// Two tensors may not share bytes (an overlap would let one tensor's data be read as another's).
    private static func rejectOverlaps<S: Sequence>(_ tensors: S, invalid: (String) -> ModelError) throws where S.Element == TensorInfo {
        let sorted = tensors.filter { !$0.range.isEmpty }.sorted { ($0.range.lowerBound, $0.name) < ($1.range.lowerBound, $1.name) }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where next.range.lowerBound < previous.range.upperBound {
            throw invalid("tensors '\(previous.name)' \(previous.range) and '\(next.name)' \(next.range) have overlapping data_offsets")
        }
    }
}
