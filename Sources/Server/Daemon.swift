import Dispatch
import Fmap
import Logging
import Metadata
import Policy
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// What `famfs-policyd` was asked to serve.
public struct DaemonConfiguration: Sendable {
    /// Device paths, primary first.
    public var devices: [String]
    /// A directory, or `/dev/fd/N` for a FUSE connection opened by someone else.
    public var mountpoint: String
    /// The Lua policy. A leader needs one; a follower may go without (devices are then named
    /// to the kernel by the paths given).
    public var policyPath: String?
    /// Values published to the policy as `config`.
    public var policyConfig: [String: String] = [:]
    /// Extra libfuse mount options (`allow_other`, `ro`, ...).
    public var mountOptions: [String] = []
    public var workers = 4
    /// Where passthrough files live (`--staging`); without it every file is DAX.
    public var staging: String?
    public var kernelProfile: KernelProfile.Request = .auto
    /// Mount read-only and follow the log the leader (on this or another host) appends to.
    public var follower = false
    /// How often a follower reads the log header again, in seconds.
    public var pollInterval = 0.5
    /// How often a leader beats its lease, and when a silent one counts as dead.
    public var leaseTiming = LeaderLease.Timing.standard

    public init(devices: [String], mountpoint: String, policyPath: String?) {
        self.devices = devices
        self.mountpoint = mountpoint
        self.policyPath = policyPath
    }
}

/// The daemon: opens the devices and replays the log, loads the policy, mounts, and serves
/// until unmounted. SIGINT and SIGTERM unmount cleanly; SIGHUP reloads the policy.
///
/// A leader holds the lease on the log while it runs (see `LeaderLease`); a follower mounts
/// read-only and polls the log for what the leader appends (see `LogFollowing`).
public final class Daemon: Sendable {
    public let configuration: DaemonConfiguration
    let image: FamfsImage
    let policy: PolicySource?
    let lease: LeaderLease?
    let heartbeat: LeaseHeartbeat?
    let following: LogFollowing?
    let mount: FuseMount
    let server: FuseServer
    let workerPolicies: FuseServer.WorkerPolicies
    let logger: Logger
    let signals = SignalRelay([SIGINT, SIGTERM, SIGHUP])

    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Does everything that can fail before serving, so a broken setup fails at start with a
    /// message that names the cause. A leader that fails after taking the lease releases it.
    public init(_ configuration: DaemonConfiguration, logger: Logger) throws(StartError) {
        self.configuration = configuration
        self.logger = logger
        guard !configuration.devices.isEmpty else { throw StartError(description: "no device given") }
        try Self.checkRole(configuration)
        (image, lease) = try Self.openImage(configuration, logger: logger)
        heartbeat = lease.map { LeaseHeartbeat(lease: $0, logger: logger) }
        heartbeat?.start()
        let serving: (policy: PolicySource?, fileSystem: FileSystem, server: FuseServer,
                      workerPolicies: FuseServer.WorkerPolicies, mount: FuseMount)
        do {
            serving = try Self.prepareServing(configuration, image: image, logger: logger)
        } catch {
            heartbeat?.stop()
            lease?.release()
            throw error
        }
        (policy, server, workerPolicies, mount) = (serving.policy, serving.server, serving.workerPolicies, serving.mount)
        following = configuration.follower ? LogFollowing(fileSystem: serving.fileSystem, interval: configuration.pollInterval) : nil
        let devices = configuration.devices.joined(separator: ", ")
        if configuration.follower {
            logger.info("following \(devices) read-only at \(configuration.mountpoint), reading the log every \(configuration.pollInterval) s")
        } else {
            logger.info("serving \(devices) at \(configuration.mountpoint) with policy \(configuration.policyPath ?? "")")
        }
        Failpoint.reach("mounted", logger: logger)
    }

    /// Policy, staging, server, each worker's policy and the mount, once the image is open.
    private static func prepareServing(_ configuration: DaemonConfiguration, image: FamfsImage, logger: Logger)
        throws(StartError) -> (policy: PolicySource?, fileSystem: FileSystem, server: FuseServer,
                               workerPolicies: FuseServer.WorkerPolicies, mount: FuseMount) {
        // A devdax device's NUMA node comes from libdaxctl. Allocations stay in famfs's 2 MiB
        // units whatever the device's own alignment, as famfs's allocator keeps them.
        let devices = image.devices.enumerated().map { index, device in
            DeviceFacts(index: UInt32(index), path: device.path.string, size: device.size,
                        alignment: FmapLimits.mib2, numaNode: device.dax?.numaNode)
        }
        let policy: PolicySource?
        do {
            policy = try configuration.policyPath.map {
                try PolicySource(path: $0, devices: devices, config: configuration.policyConfig, logger: logger)
            }
        } catch {
            throw StartError(description: "cannot load the policy: \(error)")
        }
        var staging: StagingArea?
        if let path = configuration.staging {
            do {
                staging = try StagingArea(path: path)
            } catch {
                throw StartError(description: "\(error)")
            }
        }
        let fileSystem = FileSystem(image: image, staging: staging, logger: logger)
        var negotiation = InitNegotiation()
        negotiation.kernelProfile = configuration.kernelProfile
        let source = policy
        let server = FuseServer(fileSystem: fileSystem,
                                makePolicy: { try source.map { try $0.makeWorker() } ?? ReadOnlyWorkerPolicy() },
                                negotiation: negotiation, workerCount: configuration.workers, logger: logger)
        let workerPolicies: FuseServer.WorkerPolicies
        do {
            workerPolicies = try server.makeWorkerPolicies()
        } catch {
            throw StartError(description: "\(error)")
        }
        let fsname = "famfs-policyd:" + (configuration.devices.first ?? "")
        let roleOptions = configuration.follower ? ["ro"] : []
        do {
            let mount = try FuseMount(mountpoint: configuration.mountpoint,
                                      options: ["fsname=\(fsname)", "subtype=famfs", "default_permissions"] + roleOptions
                                        + configuration.mountOptions)
            return (policy, fileSystem, server, workerPolicies, mount)
        } catch {
            throw StartError(description: "cannot mount \(configuration.mountpoint): \(error)")
        }
    }

    /// Serves until the file system is unmounted (or the connection's peer hangs up). A
    /// follower polls the log meanwhile; a leader releases its lease on the way out. A serve
    /// that fails (INIT refused) unmounts and throws.
    public func run() throws {
        signals.deliver(to: { [self] in handle($0) })
        defer { signals.cancel() }
        following?.start()
        defer {
            following?.stop()
            heartbeat?.stop()
            lease?.release()
        }
        do {
            try server.serve(mount.channel, policies: workerPolicies)
        } catch {
            mount.unmount()
            throw error
        }
        mount.unmount()
        logger.info("\(configuration.mountpoint) unmounted; exiting")
    }

    /// Unmounts; `run` then returns.
    public func stop() {
        if mount.isInherited {
            logger.info("stopping: the connection was inherited, so exiting without unmounting")
            exit(0)
        }
        mount.unmount()
    }

    /// SIGINT and SIGTERM stop; SIGHUP reloads the policy.
    private func handle(_ signalNumber: Int32) {
        guard signalNumber == SIGHUP else {
            logger.info("signal \(signalNumber): unmounting \(configuration.mountpoint)")
            return stop()
        }
        guard let policy else { return logger.info("SIGHUP: no policy to reload") }
        logger.info("SIGHUP: reloading \(policy.path)")
        policy.reload()
    }
}
