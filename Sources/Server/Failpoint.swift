import Foundation
import Logging

/// Named points where crash tests stop the daemon: with `FAMFS_POLICYD_FAILPOINT=<name>` in
/// its environment, reaching that point logs "failpoint <name> reached" and waits forever,
/// so the test can SIGKILL the process exactly there. Unset, a failpoint does nothing.
enum Failpoint {
    static let armed = ProcessInfo.processInfo.environment["FAMFS_POLICYD_FAILPOINT"]

    static func reach(_ name: String, logger: Logger) {
        guard armed == name else { return }
        logger.critical("failpoint \(name) reached")
        while true { sleep(3600) }
    }
}
