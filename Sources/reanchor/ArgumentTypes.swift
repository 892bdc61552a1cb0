import ArgumentParser
import Foundation
import Cache
import Engine
import Models

// Enum options are parsed by ArgumentParser into their own types: an unknown value is reported with the
// option's name and the list of valid values before `run()` starts.
extension KeyStorage: ExpressibleByArgument {}
extension ModelShape: ExpressibleByArgument {}
extension ReuseMode: ExpressibleByArgument {}

/// `--overflow`: stop at a full context, or truncate it by one of the engine's policies.
enum OverflowOption: String, CaseIterable, ExpressibleByArgument {
    case stop
    case reanchor
    case reprefill
    case naive

    /// The engine's policy, or nil for `stop`.
    var policy: OverflowPolicy? {
        switch self {
        case .stop: return nil
        case .reanchor: return .reanchor
        case .reprefill: return .reprefill
        case .naive: return .naive
        }
    }
}

/// Runs `build` (typically an Engine parameter type's throwing initializer) and turns its
/// `EngineError.invalidParameter` into a `ValidationError` naming the command-line option: `--name`, or
/// `--options[name]` where the option is spelled differently from the engine's parameter.
func validated<T>(options: [String: String] = [:], _ build: () throws -> T) throws -> T {
    do {
        return try build()
    } catch let EngineError.invalidParameter(name, reason) {
        throw ValidationError("--\(options[name] ?? name) \(reason)")
    }
}

/// Parses a comma-separated list of integers (`--contexts 1024,2048`), naming the option on a bad entry.
func integerList(_ option: String) -> @Sendable (String) throws -> [Int] {
    { text in
        try text.split(separator: ",", omittingEmptySubsequences: false).map { part in
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            guard let value = Int(trimmed) else { throw ValidationError("--\(option): '\(trimmed)' is not a whole number") }
            return value
        }
    }
}
