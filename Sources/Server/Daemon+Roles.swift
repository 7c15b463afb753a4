import Logging
import Metadata
import SystemPackage

/// Leader and follower: the two ways a daemon opens the shared devices.
extension Daemon {
    /// Refuses configurations a role cannot serve, saying what to type instead.
    static func checkRole(_ configuration: DaemonConfiguration) throws(StartError) {
        if configuration.follower {
            guard configuration.staging == nil else {
                throw StartError(description: "--staging is for the leader: a follower creates no files")
            }
            guard configuration.pollInterval > 0 else {
                throw StartError(description: "the poll interval must be more than 0 seconds, not \(configuration.pollInterval)")
            }
        } else if configuration.policyPath == nil {
            throw StartError(description: "a leader needs a policy (--policy FILE) to lay out new files; add --follower to mount read-only and follow the leader")
        }
    }

    /// Opens the file system for the configured role. A follower maps the devices read-only
    /// and takes no lease. A leader takes the lease first, so that no other leader appends
    /// while it replays, then opens read-write; from then on every append checks that the
    /// lease still names it.
    static func openImage(_ configuration: DaemonConfiguration, logger: Logger) throws(StartError) -> (FamfsImage, LeaderLease?) {
        let paths = configuration.devices.map { FilePath($0) }
        if configuration.follower {
            do {
                return (try FamfsImage.open(devices: paths, access: .readOnly), nil)
            } catch {
                throw StartError(description: "cannot open the file system: \(error)")
            }
        }
        let lease: LeaderLease
        do throws(LeaseError) {
            lease = try LeaderLease(primary: paths[0], holder: try .current(), timing: configuration.leaseTiming)
            let how = try lease.acquire()
            logger.info("took the lease on \(paths[0]) to lead: \(how)")
        } catch {
            throw StartError(description: "cannot lead: \(error)")
        }
        do {
            let image = try FamfsImage.open(devices: paths, access: .readWrite, host: lease.holder.host) { step in
                Failpoint.reach(step.rawValue, logger: logger)
            }
            image.requireLease(lease)
            return (image, lease)
        } catch {
            lease.release()
            throw StartError(description: "cannot open the file system: \(error)")
        }
    }
}
