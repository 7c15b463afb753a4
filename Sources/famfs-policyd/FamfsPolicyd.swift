import ArgumentParser

/// `famfs-policyd`: the FUSE server whose file layouts are decided by a Lua policy.
@main
struct FamfsPolicyd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "famfs-policyd",
        abstract: "Serve a famfs file system whose layouts a Lua policy decides.")
}
