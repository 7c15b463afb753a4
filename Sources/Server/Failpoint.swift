import Foundation
import Logging

/// Named points where tests stop the daemon: with `FAMFS_POLICYD_FAILPOINT=<name>` in its
/// environment, reaching that point logs "failpoint <name> reached" and waits forever, so a
/// crash test can SIGKILL the process exactly there; `<name>:<seconds>` waits that long and
/// goes on, so a test can act while the daemon stands there. Unset, a failpoint does nothing.
enum Failpoint {
    static let armed = ProcessInfo.processInfo.environment["FAMFS_POLICYD_FAILPOINT"]?
        .split(separator: ":", maxSplits: 1).map(String.init)

    static func reach(_ name: String, logger: Logger) {
        guard let armed, armed[0] == name else { return }
        logger.critical("failpoint \(name) reached")
        guard armed.count > 1 else { while true { sleep(3600) } }
        usleep(UInt32((Double(armed[1]) ?? 0) * 1_000_000))
    }
}
