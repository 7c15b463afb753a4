import Foundation
import Logging

/// Named points where tests stop the daemon: with `FAMFS_POLICYD_FAILPOINT=<name>` in its
/// environment, reaching that point logs "failpoint <name> reached" and waits forever, so a
/// crash test can SIGKILL the process exactly there; `<name>:<seconds>` waits that long and
/// goes on, so a test can act while the daemon stands there. Unset, a failpoint does nothing.
enum Failpoint {
    /// The armed point's name and pause (nil: wait forever); nil when none is armed.
    static let armed: (name: String, pause: Double?)? = {
        guard let value = ProcessInfo.processInfo.environment["FAMFS_POLICYD_FAILPOINT"], !value.isEmpty else { return nil }
        let parts = value.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count > 1 else { return (parts[0], nil) }
        let seconds = Double(parts[1]) ?? 0
        return (parts[0], seconds.isFinite ? min(max(seconds, 0), 3600) : 0)
    }()

    static func reach(_ name: String, logger: Logger) {
        guard let armed, armed.name == name else { return }
        logger.critical("failpoint \(name) reached")
        guard let pause = armed.pause else { while true { sleep(3600) } }
        usleep(UInt32(pause * 1_000_000))
    }
}
