import ArgumentParser
import Foundation
import Cache
import Engine
import Models

// Enum options are parsed by ArgumentParser into their own types: an unknown value is reported with the
// option's name and the list of valid values before `run()` starts.
extension KeyStorage: ExpressibleByArgument {}
extension ModelShape: ExpressibleByArgument {}
extension WeightFormat: ExpressibleByArgument {}
extension ReuseMode: ExpressibleByArgument {}
extension BlendParameters.Deviation: ExpressibleByArgument {}

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

/// A bad option value found in `run()`, once the model is loaded (a context above its window, say): printed
/// as `Error: <message>` without the root command's usage, which `ValidationError` would add there.
struct OptionError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs `build` (typically an Engine parameter type's throwing initializer) and turns its
/// `EngineError.invalidParameter` into an error naming the command-line option: `--name`, or
/// `--options[name]` where the option is spelled differently from the engine's parameter. In `validate()`
/// the error is a `ValidationError` (printed with the command's usage), in `run()` an `OptionError`.
func validated<T>(options: [String: String] = [:], inRun: Bool = true, _ build: () throws -> T) throws -> T {
    do {
        return try build()
    } catch let EngineError.invalidParameter(name, reason) {
        let message = "--\(options[name] ?? name) \(reason)"
        if inRun { throw OptionError(message) }
        throw ValidationError(message)
    }
}

/// Parses a comma-separated list of integers (`--contexts 1024,2048`); ArgumentParser names the option on error.
@Sendable func integerList(_ text: String) throws -> [Int] {
    try text.split(separator: ",", omittingEmptySubsequences: false).map { part in
        let trimmed = part.trimmingCharacters(in: .whitespaces)
        guard let value = Int(trimmed) else { throw ValidationError("'\(trimmed)' is not a whole number") }
        return value
    }
}

/// Parses a comma-separated list of finite numbers (`--keep 1,0.7`); ArgumentParser names the option on error.
@Sendable func doubleList(_ text: String) throws -> [Double] {
    try text.split(separator: ",", omittingEmptySubsequences: false).map { part in
        let trimmed = part.trimmingCharacters(in: .whitespaces)
        guard let value = Double(trimmed), value.isFinite else { throw ValidationError("'\(trimmed)' is not a number") }
        return value
    }
}
