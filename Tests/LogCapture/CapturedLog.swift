import Foundation
import Logging

/// A logger that keeps every message as "level: message", so tests can assert what the
/// code under test said. Shared by the test targets.
public final class CapturedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    private let level: Logger.Level

    /// Keeps messages at `level` and above.
    public init(level: Logger.Level = .info) { self.level = level }

    /// Every message kept so far, oldest first.
    public var messages: [String] { lock.withLock { lines } }

    public var logger: Logger {
        Logger(label: "captured") { [self] _ in Handler(log: self, logLevel: level) }
    }

    private func append(_ line: String) { lock.withLock { lines.append(line) } }

    private struct Handler: LogHandler {
        let log: CapturedLog
        var logLevel: Logger.Level
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            log.append("\(event.level): \(event.message)")
        }
    }
}
