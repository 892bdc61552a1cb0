import Bench
import ArgumentParser
import Foundation
import Engine

/// `reanchor bench plot`: redraws an experiment's figure from the JSON report it saved, without re-running it.
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Redraw the SVG figure of a saved rope-modes, rag or rap report.",
        discussion: "Example: reanchor bench plot --json docs/rope-modes.json --plot docs/rope-modes.svg")

    enum Kind: String, CaseIterable, ExpressibleByArgument {
        case ropeModes = "rope-modes"
        case rag
        case rap
    }

    @Option(help: "The JSON report written by `bench rope-modes --json`, `bench rag --json` or `bench rap --json`.") var json: String
    @Option(help: "Write the SVG figure here.") var plot: String
    @Option(help: "The report's experiment (default: recognised from the JSON).") var kind: Kind?

    func run() throws {
        guard let data = FileManager.default.contents(atPath: json) else { throw OptionError("cannot read --json \(json)") }
        let chart: SVGChart
        switch kind ?? Self.recognise(data) {
        case .ropeModes?:
            chart = try decode(RopeModesExperiment.Report.self, from: data, as: .ropeModes).chart()
        case .rag?:
            chart = try decode(RAGExperiment.Report.self, from: data, as: .rag).chart()
        case .rap?:
            chart = try decode(RAPReport.self, from: data, as: .rap).chart()
        case nil:
            throw OptionError("--json \(json) is neither a rope-modes, a rag nor a rap report (give --kind to see why it does not decode)")
        }
        do {
            try Data(chart.render().utf8).write(to: URL(fileURLWithPath: plot))
        } catch {
            throw OptionError("cannot write --plot \(plot): \(error.localizedDescription)")
        }
        printError("wrote \(plot)")
    }

    /// The experiment whose report `data` decodes as, if any.
    static func recognise(_ data: Data) -> Kind? {
        if (try? JSONDecoder().decode(RopeModesExperiment.Report.self, from: data)) != nil { return .ropeModes }
        if (try? JSONDecoder().decode(RAGExperiment.Report.self, from: data)) != nil { return .rag }
        if (try? JSONDecoder().decode(RAPReport.self, from: data)) != nil { return .rap }
        return nil
    }

    private func decode<T: Decodable>(_ type: T.Type, from data: Data, as kind: Kind) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw OptionError("--json \(json) is not a \(kind.rawValue) report: no '\(Self.path(context.codingPath + [key]))'")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
                let DecodingError.dataCorrupted(context) {
            throw OptionError("--json \(json) is not a \(kind.rawValue) report: at '\(Self.path(context.codingPath))': \(context.debugDescription)")
        }
    }

    static func path(_ keys: [CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
    }
}
