import Dispatch

#if canImport(Glibc)
import Glibc
#endif

/// Catches a set of signals and hands them to a handler attached later. The daemon makes one
/// before it opens its devices: a signal sent as soon as the mount shows up (a SIGHUP whose
/// default action would kill the daemon, a SIGTERM that would be lost) is kept until
/// `deliver(to:)` and acted on then.
///
/// The signals are ignored at once; libdispatch starts reading them a moment later, on its
/// own thread, so one sent within that moment is dropped rather than kept (long before any
/// mount exists). Once made, the process never gets these signals' default actions back.
final class SignalRelay: @unchecked Sendable {
    // Everything below is touched only on `queue`.
    private let queue = DispatchQueue(label: "famfs-policyd.signals")
    private var sources: [any DispatchSourceSignal] = []
    private var handler: (@Sendable (Int32) -> Void)?
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

    /// From now on each signal goes to `handler` (on the relay's own queue), starting with
    /// those caught before. Not to be called from within a handler.
    func deliver(to handler: @escaping @Sendable (Int32) -> Void) {
        queue.sync {
            self.handler = handler
            pending.forEach(handler)
            pending = []
        }
    }

    /// Stops handing signals on; they are ignored from then on. Not to be called from within
    /// a handler.
    func cancel() {
        queue.sync {
            sources.forEach { $0.cancel() }
            handler = nil
        }
    }

    deinit { sources.forEach { $0.cancel() } }
}
