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
    public var policyPath: String
    /// Values published to the policy as `config`.
    public var policyConfig: [String: String] = [:]
    /// Extra libfuse mount options (`allow_other`, `ro`, ...).
    public var mountOptions: [String] = []
    public var workers = 4
    /// Where passthrough files live (`--staging`); without it every file is DAX.
    public var staging: String?
    public var kernelProfile: KernelProfile.Request = .auto

    public init(devices: [String], mountpoint: String, policyPath: String) {
        self.devices = devices
        self.mountpoint = mountpoint
        self.policyPath = policyPath
    }
}

/// The daemon: opens the devices and replays the log, loads the policy, mounts, and serves
/// until unmounted. SIGINT and SIGTERM unmount cleanly; SIGHUP reloads the policy.
public final class Daemon: Sendable {
    public let configuration: DaemonConfiguration
    let image: FamfsImage
    let policy: PolicySource
    let mount: FuseMount
    let server: FuseServer
    let logger: Logger

    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Does everything that can fail before serving, so a broken setup fails at start with a
    /// message that names the cause.
    public init(_ configuration: DaemonConfiguration, logger: Logger) throws(StartError) {
        self.configuration = configuration
        self.logger = logger
        guard !configuration.devices.isEmpty else { throw StartError(description: "no device given") }
        do {
            image = try FamfsImage.open(devices: configuration.devices.map { FilePath($0) }, access: .readWrite,
                                        host: try SystemUUID.current())
        } catch {
            throw StartError(description: "cannot open the file system: \(error)")
        }
        let devices = image.devices.enumerated().map { index, device in
            DeviceFacts(index: UInt32(index), path: device.path.string, size: device.size, alignment: FmapLimits.mib2)
        }
        do {
            policy = try PolicySource(path: configuration.policyPath, devices: devices,
                                      config: configuration.policyConfig, logger: logger)
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
        server = FuseServer(fileSystem: fileSystem, makePolicy: { try source.makeWorker() }, negotiation: negotiation,
                            workerCount: configuration.workers, logger: logger)
        let fsname = "famfs-policyd:" + (configuration.devices.first ?? "")
        do {
            mount = try FuseMount(mountpoint: configuration.mountpoint,
                                  options: ["fsname=\(fsname)", "subtype=famfs", "default_permissions"] + configuration.mountOptions)
        } catch {
            throw StartError(description: "cannot mount \(configuration.mountpoint): \(error)")
        }
        logger.info("serving \(configuration.devices.joined(separator: ", ")) at \(configuration.mountpoint) with policy \(configuration.policyPath)")
    }

    /// Serves until the file system is unmounted (or the connection's peer hangs up).
    public func run() throws {
        let signals = installSignalHandlers()
        defer { signals.forEach { $0.cancel() } }
        try server.serve(mount.channel)
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

    private func installSignalHandlers() -> [any DispatchSourceSignal] {
        let queue = DispatchQueue(label: "famfs-policyd.signals")
        var sources: [any DispatchSourceSignal] = []
        for (signalNumber, action) in [(SIGINT, "stop"), (SIGTERM, "stop"), (SIGHUP, "reload")] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
            source.setEventHandler { [self] in
                if action == "reload" {
                    logger.info("SIGHUP: reloading \(policy.path)")
                    policy.reload()
                } else {
                    logger.info("signal \(signalNumber): unmounting \(configuration.mountpoint)")
                    stop()
                }
            }
            source.resume()
            sources.append(source)
        }
        return sources
    }
}
