import ArgumentParser
import Foundation
import Logging
import Server

/// `famfs-policyd`: the FUSE server whose file layouts are decided by a Lua policy.
@main
struct FamfsPolicyd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "famfs-policyd",
        abstract: "Serve a famfs file system whose layouts a Lua policy decides.",
        discussion: """
            Opens the devices (the primary, which holds the superblock and log, first), replays \
            the log, loads the policy and mounts. New files get their memory when their size is \
            first set; the policy's layout hook decides where. SIGHUP reloads the policy (a broken \
            one is refused and the old one kept); SIGINT and SIGTERM unmount.

            One daemon leads: it holds a lease in the primary device, and a second leader on \
            the same devices refuses to start, naming the holder (famfs-policy takeover DEV0 \
            frees the lease of a dead leader). Every other host mounts the same devices with \
            --follower: read-only, following the leader's log.

            Examples:
              famfs-policy mkfs /dev/shm/dev0 /dev/shm/dev1
              famfs-policyd --policy policies/stripe.lua \\
                  /dev/shm/dev0 /dev/shm/dev1 /mnt/famfs
              famfs-policyd --follower /dev/shm/dev0 /dev/shm/dev1 /mnt/famfs-follower
              fusermount3 -u /mnt/famfs
            """)

    @Flag(name: .short, help: "Stay in the foreground (for systemd and terminals); otherwise detach once mounted.")
    var foreground = false

    @Option(help: ArgumentHelp("The Lua policy file. A leader needs one; a follower may go without (the kernel is then told each device by the path given).", valueName: "file"))
    var policy: String?

    @Flag(help: "Mount read-only and follow the log the leader appends to: its new files and directories appear here. Changes give EROFS.")
    var follower = false

    @Option(help: ArgumentHelp("With --follower, how often to read the log for new entries.", valueName: "seconds"))
    var pollInterval = 0.5

    @Option(name: .customLong("config"), help: ArgumentHelp("A policy setting, published to the policy as config[KEY].", valueName: "key=value"))
    var policyConfig: [String] = []

    @Option(name: .short, help: ArgumentHelp("libfuse mount options, comma-separated (allow_other, ro, ...).", valueName: "options"))
    var options: [String] = []

    @Option(help: ArgumentHelp("Directory for passthrough files (the policy's placement hook decides which files). Without it every file is DAX.", valueName: "dir"))
    var staging: String?

    @Option(help: "Worker threads serving requests.")
    var workers = 4

    @Option(help: ArgumentHelp("The famfs kernel protocol: auto, posted, push or none.", valueName: "profile"))
    var kernelProfile = "auto"

    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    var logLevel = "info"

    @Argument(help: ArgumentHelp("Devices, primary first, then the mount point (a directory or /dev/fd/N).",
                                 valueName: "DEV0 [DEV1 ...] MOUNTPOINT"))
    var paths: [String]

    func validate() throws {
        guard paths.count >= 2 else {
            throw ValidationError("name at least one device and the mount point, e.g. famfs-policyd --policy p.lua /dev/shm/dev0 /mnt/famfs")
        }
        guard KernelProfile.Request(argument: kernelProfile) != nil else {
            throw ValidationError("--kernel-profile must be auto, posted, push or none, not '\(kernelProfile)'")
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be trace, debug, info, notice, warning, error or critical")
        }
        guard workers >= 1 else { throw ValidationError("--workers must be at least 1") }
        guard follower || policy != nil else {
            throw ValidationError("a leader needs --policy FILE; to mount read-only and follow the leader, add --follower")
        }
        guard pollInterval > 0, pollInterval <= 60 else {
            throw ValidationError("--poll-interval takes seconds above 0 and at most 60, e.g. --poll-interval 0.5")
        }
        guard !follower || staging == nil else { throw ValidationError("--staging is for the leader: a follower creates no files") }
        for setting in policyConfig where !setting.contains("=") {
            throw ValidationError("--config takes key=value, not '\(setting)'")
        }
    }

    func run() throws {
        if !foreground, !Detach.isDetachedChild {
            throw ExitCode(try Detach.runInBackground())
        }
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "famfs-policyd")
        var configuration = DaemonConfiguration(devices: Array(paths.dropLast()), mountpoint: paths.last!, policyPath: policy)
        configuration.mountOptions = options.flatMap { $0.split(separator: ",").map(String.init) }
        configuration.workers = workers
        configuration.staging = staging
        configuration.kernelProfile = KernelProfile.Request(argument: kernelProfile) ?? .auto
        configuration.follower = follower
        configuration.pollInterval = pollInterval
        for setting in policyConfig {
            let parts = setting.split(separator: "=", maxSplits: 1).map(String.init)
            configuration.policyConfig[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        let daemon: Daemon
        do {
            daemon = try Daemon(configuration, logger: logger)
        } catch {
            logger.critical("\(error)")
            throw ExitCode.failure
        }
        Detach.reportReady()
        do {
            try daemon.run()
        } catch {
            logger.critical("\(error)")
            throw ExitCode.failure
        }
    }
}
