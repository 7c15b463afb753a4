import ArgumentParser

/// `famfs-policy`: the user commands around a famfs-policyd file system.
@main
struct FamfsPolicy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "famfs-policy",
        abstract: "Format devices, evaluate and test layout policies, check and commit files, take over the log.",
        discussion: """
            Examples:
              famfs-policy mkfs /dev/dax0.0 /dev/dax1.0
              famfs-policy test policies/stripe.lua
              famfs-policy eval --policy policies/stripe.lua \\
                  --device /dev/dax0.0=64G --device /dev/dax1.0=64G --file /data/a=10M
              famfs-policy check /dev/dax0.0 /dev/dax1.0
              famfs-policy commit /mnt/famfs/big.bin
              famfs-policy eval --help        (each command's help has more examples)
            """,
        subcommands: [MkfsCommand.self, CheckCommand.self, EvalCommand.self, TestCommand.self, CommitCommand.self, TakeoverCommand.self])
}
