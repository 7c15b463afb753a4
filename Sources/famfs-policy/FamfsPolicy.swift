import ArgumentParser
import Foundation

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

extension FamfsPolicy {
    /// Parses and runs as ArgumentParser does, except for a `ValidationError` a command's
    /// `run` throws (bad input found once the arguments parsed): its message already says what
    /// to write, so it is printed with a pointer to that command's help rather than the
    /// top-level usage line, which names no command.
    static func main() {
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            try command.run()
        } catch let error as ValidationError {
            let name = type(of: command).configuration.commandName ?? "\(type(of: command))"
            FileHandle.standardError.write(Data("Error: \(error.message)\n  See 'famfs-policy \(name) --help'.\n".utf8))
            exit(withError: ExitCode.validationFailure)
        } catch {
            exit(withError: error)
        }
    }
}
