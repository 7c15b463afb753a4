import Foundation
import Logging
import Metadata
import Synchronization

/// A follower's poll loop: every `interval` seconds it reads the log header again and adds
/// what the leader committed since (`FamfsImage.refresh`, then `FileSystem.takeIn`).
public final class LogFollowing: Sendable {
    public let interval: Double
    private let fileSystem: FileSystem
    private let stopped = Mutex(false)
    private let finished = DispatchSemaphore(value: 0)

    /// A loop for `fileSystem`, which must be a follower's; call `start()` to run it.
    public init(fileSystem: FileSystem, interval: Double) {
        self.fileSystem = fileSystem
        self.interval = max(interval, 0.001)
    }

    /// Runs the loop on its own thread until `stop()`.
    public func start() {
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = "famfs-follow"
        thread.start()
    }

    /// Ends the loop and waits for its last poll to finish.
    public func stop() {
        stopped.withLock { $0 = true }
        _ = finished.wait(timeout: .now() + interval + 5)
    }

    /// One look at the log: takes in and returns what the leader committed since the last.
    @discardableResult
    public func pollOnce() throws(ImageError) -> LogProgress {
        let progress = try fileSystem.image.refresh()
        fileSystem.takeIn(progress)
        return progress
    }

    private func run() {
        let logger = fileSystem.logger
        logger.info("following the log every \(interval) s")
        var lastFailure: String?
        while !stopped.withLock({ $0 }) {
            do throws(ImageError) {
                try pollOnce()
                if lastFailure != nil { logger.info("follow: the log header reads again") }
                lastFailure = nil
            } catch {
                // A header read while the leader rewrites it can be torn; the next poll reads it whole.
                let text = "\(error)"
                if text != lastFailure { logger.warning("follow: cannot read the log header, retrying every \(interval) s: \(text)") }
                lastFailure = text
            }
            usleep(UInt32(min(interval, 60) * 1_000_000))
        }
    }
}
