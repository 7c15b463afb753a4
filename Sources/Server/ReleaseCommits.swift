import Synchronization

/// The commits `on_release` asks for, run by at most `limit` workers at once so that the
/// others stay free to serve: a commit copies the whole file and may take seconds. A release
/// that finds `limit` workers committing leaves its file to them; each takes the next waiting
/// file when it finishes its own.
final class ReleaseCommits: Sendable {
    private struct State {
        var limit = 1
        var running = 0
        /// Files waiting, in release order; each at most once.
        var waiting: [UInt64] = []
        /// The last failure reported for each file whose commit on release failed.
        var lastFailure: [UInt64: String] = [:]
    }

    private let state = Mutex(State())

    /// How many workers may commit on release at once (at least one).
    func setLimit(_ limit: Int) {
        state.withLock { $0.limit = max(1, limit) }
    }

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

    /// Commits `id`, then every file left waiting meanwhile, with `commit`; or, when `limit`
    /// workers are committing already, leaves `id` to them and returns at once.
    func run(_ id: UInt64, _ commit: (UInt64) -> Void) {
        let runsHere = state.withLock { state in
            if state.running < state.limit {
                state.running += 1
                return true
            }
            if !state.waiting.contains(id) { state.waiting.append(id) }
            return false
        }
        guard runsHere else { return }
        var next: UInt64? = id
        while let current = next {
            commit(current)
            next = state.withLock { state in
                guard !state.waiting.isEmpty else {
                    state.running -= 1
                    return nil
                }
                return state.waiting.removeFirst()
            }
        }
    }
}
