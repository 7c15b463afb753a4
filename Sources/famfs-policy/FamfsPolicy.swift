import ArgumentParser

/// `famfs-policy`: the user commands around a famfs-policyd file system.
@main
struct FamfsPolicy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "famfs-policy",
        abstract: "Format devices, evaluate and test layout policies, check and commit files, take over the log.",
        subcommands: [MkfsCommand.self, CheckCommand.self, EvalCommand.self, TestCommand.self, CommitCommand.self, TakeoverCommand.self])
}
