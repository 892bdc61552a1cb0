import ArgumentParser

struct ReanchorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reanchor",
        abstract: "LLM inference with a position-independent KV cache.",
        subcommands: [DemoCommand.self, GenerateCommand.self, PerplexityCommand.self, BenchCommand.self],
        defaultSubcommand: DemoCommand.self)
}
