import Foundation
import Logging
import Metadata
import Synchronization

/// A leader's heartbeat: beats its lease every `timing.heartbeat` seconds so that a second
/// leader refuses to start. Once the lease names someone else (a takeover) it stops beating;
/// the image's appends then fail with EROFS because the lease no longer names this daemon.
final class LeaseHeartbeat: Sendable {
    private let lease: LeaderLease
    private let logger: Logger
    private let stopped = Mutex(false)
    private let finished = DispatchSemaphore(value: 0)

    init(lease: LeaderLease, logger: Logger) {
        self.lease = lease
        self.logger = logger
    }

    func start() {
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = "famfs-lease"
        thread.start()
    }

    /// Stops beating (the lease stays held until `LeaderLease.release`).
    func stop() {
        stopped.withLock { $0 = true }
        _ = finished.wait(timeout: .now() + lease.timing.heartbeat + 5)
    }

    private func run() {
        let pause = UInt32(lease.timing.heartbeat * 1_000_000)
        while !stopped.withLock({ $0 }) {
            usleep(pause)
            do throws(LeaseError) {
                try lease.beat()
            } catch {
                logger.critical("\(error); the file system stays mounted, and every change is refused (EROFS)")
                return
            }
        }
    }
}
