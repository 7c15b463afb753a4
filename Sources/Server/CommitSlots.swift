import Synchronization

/// How many workers commit at once: a commit copies the whole file and may take seconds, so
/// at most `limit` workers do, and the others stay free to serve. A commit `on_release` asks
/// for while `limit` workers are committing waits for them (each takes the next waiting file
/// when it finishes its own); an explicit commit is refused then (EBUSY), for its caller to retry.
final class CommitSlots: Sendable {
    private struct State {
        var limit = 1
        var running = 0
        /// Files waiting, in release order; each at most once.
        var waiting: [UInt64] = []
        /// The last failure reported for each file whose commit on release failed.
        var lastFailure: [UInt64: String] = [:]
    }

    private let state = Mutex(State())

    /// How many workers may commit at once (at least one).
    func setLimit(_ limit: Int) {
        state.withLock { $0.limit = max(1, limit) }
    }

    /// How many workers are committing, and how many may at once.
    var usage: (running: Int, limit: Int) { state.withLock { ($0.running, $0.limit) } }

    /// Whether a failed commit of `id` is worth logging: not when the last one failed the same
    /// way (every read of a staged file on a full device would log it again). nil: it worked.
    func isNews(_ id: UInt64, failure: String?) -> Bool {
        state.withLock { state in
            guard let failure else {
                state.lastFailure[id] = nil
                return false
            }
            return state.lastFailure.updateValue(failure, forKey: id) != failure
        }
    }

    /// Forgets what is kept about `id` (it was removed).
    func forget(_ id: UInt64) {
        state.withLock { state in
            state.lastFailure[id] = nil
            state.waiting.removeAll { $0 == id }
        }
    }

    /// A commit on release: commits `id`, then every file left waiting meanwhile, with
    /// `commit`; or, when `limit` workers are committing already, leaves `id` to them and
    /// returns at once.
    func runOnRelease(_ id: UInt64, _ commit: (UInt64) -> Void) {
        guard takeSlot(orWait: id) else { return }
        commit(id)
        drainThenFree(commit)
    }

    /// An explicit commit: runs `commit` here when fewer than `limit` workers are committing,
    /// then commits the files releases left waiting meanwhile with `drain`; false, at once,
    /// when `limit` workers are committing.
    func runNow(_ commit: () -> Void, thenDraining drain: (UInt64) -> Void) -> Bool {
        guard takeSlot(orWait: nil) else { return false }
        commit()
        drainThenFree(drain)
        return true
    }

    /// Takes a slot if one is free; else queues `id` (once), if given.
    private func takeSlot(orWait id: UInt64?) -> Bool {
        state.withLock { state in
            if state.running < state.limit {
                state.running += 1
                return true
            }
            if let id, !state.waiting.contains(id) { state.waiting.append(id) }
            return false
        }
    }

    /// Commits waiting files until none is left, then gives the slot back.
    private func drainThenFree(_ commit: (UInt64) -> Void) {
        while let next = state.withLock({ state -> UInt64? in
            guard !state.waiting.isEmpty else {
                state.running -= 1
                return nil
            }
            return state.waiting.removeFirst()
        }) {
            commit(next)
        }
    }
}
