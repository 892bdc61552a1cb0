import ArgumentParser

struct ReanchorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reanchor",
        abstract: "LLM inference with a position-independent KV cache.",
        subcommands: [DemoCommand.self, GenerateCommand.self, PerplexityCommand.self, RAGCommand.self, PruneCommand.self, BenchCommand.self,
                      ServeCommand.self, LibraryCommand.self],
        defaultSubcommand: DemoCommand.self)
}
