// The command-line tool: argument groups and subcommands only; the work is done by Engine.
import ArgumentParser
import Kernels

/// Runs the parsed command, preferring its `async` `run()` (inside an async function, so overload resolution
/// picks the async requirement rather than `ParsableCommand`'s synchronous default).
func execute() async {
    do {
        // A forced kernel path (REANCHOR_KERNELS) this CPU cannot run is refused before any work.
        _ = try KernelPath.validatedEnvironment()
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
