// The command-line tool: argument groups and subcommands only; the work is done by Engine.
Launcher.relaunchWithTunedBLASIfNeeded()
ReanchorCommand.main()
