import Dispatch

#if canImport(Glibc)
import Glibc
#endif

/// Catches a set of signals from the moment it is made and hands them to a handler attached
/// later. The daemon makes one before it mounts: a signal sent as soon as the mount shows up
/// (a SIGHUP whose default action would kill the daemon, a SIGTERM that would be lost) is
/// kept until `deliver(to:)` and acted on then.
final class SignalRelay: @unchecked Sendable {
    // Everything below is touched only on `queue`.
    private let queue = DispatchQueue(label: "famfs-policyd.signals")
    private var sources: [any DispatchSourceSignal] = []
    private var handler: ((Int32) -> Void)?
    private var pending: [Int32] = []

    init(_ signals: [Int32]) {
        queue.sync {
            for signalNumber in signals {
                // Dispatch reads the signal itself; its default action must not run first.
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
                source.setEventHandler { [weak self] in
                    guard let self else { return }
                    if let handler { handler(signalNumber) } else { pending.append(signalNumber) }
                }
                source.resume()
                sources.append(source)
            }
        }
    }

    /// From now on each signal goes to `handler`, starting with those caught before.
    func deliver(to handler: @escaping (Int32) -> Void) {
        queue.sync {
            self.handler = handler
            pending.forEach(handler)
            pending = []
        }
    }

    /// Stops catching; the signals stay ignored.
    func cancel() {
        queue.sync {
            sources.forEach { $0.cancel() }
            handler = nil
        }
    }

    deinit { sources.forEach { $0.cancel() } }
}
