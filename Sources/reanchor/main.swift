// The command-line tool: argument groups and subcommands only; the work is done by Engine.
import ArgumentParser

/// Runs the parsed command, preferring its `async` `run()` (inside an async function, so overload resolution
/// picks the async requirement rather than `ParsableCommand`'s synchronous default).
func execute() async {
    do {
        var command = try await ReanchorCommand.asyncParseAsRoot()
        if var asynchronous = command as? AsyncParsableCommand {
            try await asynchronous.run()
        } else {
            try command.run()
        }
    } catch {
        ReanchorCommand.exit(withError: error)
    }
}

Launcher.relaunchWithTunedBLASIfNeeded()
await execute()
