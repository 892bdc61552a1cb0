import Foundation

/// Typed access to a JSON object's fields with errors that name the field.
struct Fields {
    let json: [String: JSONValue]
    let file: String
    var prefix = ""

    private func wrong(_ key: String, _ expected: String) -> ModelError {
        ModelError.invalidConfig(file: file, field: prefix + key, reason: "must be \(expected), found \(json[key]?.description ?? "nothing")")
    }

    func object(_ key: String) -> Fields? {
        guard case .object(let nested)? = json[key] else { return nil }
        return Fields(json: nested, file: file, prefix: prefix + key + ".")
    }

    func int(_ key: String) throws -> Int? {
        switch json[key] {
        case nil, .null?: return nil
        case .int(let value)?: return value
        case .double(let value)? where value == value.rounded() && abs(value) < 1e15: return Int(value)
        default: throw wrong(key, "an integer")
        }
    }

    func require(_ key: String) throws -> Int {
        guard let value = try int(key) else { throw wrong(key, "present") }
        return value
    }

    func double(_ key: String) throws -> Double? {
        switch json[key] {
        case nil, .null?: return nil
        case .int(let value)?: return Double(value)
        case .double(let value)?: return value
        default: throw wrong(key, "a number")
        }
    }

    func requireDouble(_ key: String) throws -> Double {
        guard let value = try double(key) else { throw wrong(key, "present") }
        return value
    }

    func bool(_ key: String) throws -> Bool? {
        switch json[key] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        default: throw wrong(key, "true or false")
        }
    }

    func string(_ key: String) throws -> String? {
        switch json[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        default: throw wrong(key, "a string")
        }
    }

    func strings(_ key: String) throws -> [String]? {
        switch json[key] {
        case nil, .null?: return nil
        case .array(let items)?:
            return try items.map { item in
                guard case .string(let text) = item else { throw wrong(key, "a list of strings") }
                return text
            }
        default: throw wrong(key, "a list of strings")
        }
    }

    /// An integer, or the first of a list of integers.
    func intOrFirst(_ key: String) throws -> Int? { try intList(key).first }

    /// An integer or a list of integers, as `eos_token_id` may be.
    func intList(_ key: String) throws -> [Int] {
        switch json[key] {
        case nil, .null?: return []
        case .int(let value)?: return [value]
        case .array(let items)?:
            return try items.map { item in
                guard case .int(let value) = item else { throw wrong(key, "an integer or a list of integers") }
                return value
            }
        default: throw wrong(key, "an integer or a list of integers")
        }
    }
}
