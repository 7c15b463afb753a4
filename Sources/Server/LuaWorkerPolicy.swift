import Allocation
import Fmap
import Logging
import Policy
import Synchronization
import SystemPackage

/// The policy every worker runs, and its reloads.
///
/// The policy is read once per generation (`PolicyScript`), so every worker runs the file
/// and the load-time modules that were validated, whatever they say by the time a worker
/// loads them. Each worker
/// holds its own Lua state (`LuaWorkerPolicy`); a reload is validated on a fresh state first
/// and only then published, and workers pick it up on their next call.
public final class PolicySource: Sendable {
    public let path: String
    let devices: [DeviceFacts]
    let config: [String: String]
    let limits: PolicyLimits
    let logger: Logger
    /// The script in force, and how many reloads have succeeded.
    let current: Mutex<(generation: Int, script: PolicyScript)>

    /// Loads `path` once to prove it works; throws the policy's error otherwise.
    public init(path: String, devices: [DeviceFacts], config: [String: String] = [:],
                limits: PolicyLimits = PolicyLimits(), logger: Logger) throws(PolicyError) {
        self.path = path
        self.devices = devices
        self.config = config
        self.limits = limits
        self.logger = logger
        let script = try PolicyScript(path: path)
        current = Mutex((0, script))
        _ = try makeRuntime(script)
    }

    func makeRuntime(_ script: PolicyScript) throws(PolicyError) -> PolicyRuntime {
        try PolicyRuntime(script: script, devices: devices, config: config, limits: limits, logger: logger)
    }

    /// Reads the file as it is now; publishes it only if it loads. A broken policy is
    /// refused with its error logged, and the workers keep the one they have.
    @discardableResult
    public func reload() -> Bool {
        let script: PolicyScript
        do {
            script = try PolicyScript(path: path)
            _ = try makeRuntime(script)
        } catch {
            logger.error("policy reload refused, keeping the current policy: \(error)")
            return false
        }
        let now = current.withLock { current -> Int in
            current = (current.generation + 1, script)
            return current.generation
        }
        logger.info("policy \(path) reloaded (generation \(now))")
        return true
    }

    /// A worker's own instance (its own Lua state).
    public func makeWorker() throws -> any WorkerPolicy {
        try LuaWorkerPolicy(source: self)
    }
}

/// One worker's policy: a Lua state running the current generation of the policy file.
final class LuaWorkerPolicy: WorkerPolicy {
    private let source: PolicySource
    private var runtime: PolicyRuntime
    private var generation: Int

    init(source: PolicySource) throws(PolicyError) {
        self.source = source
        let current = source.current.withLock { $0 }
        generation = current.generation
        runtime = try source.makeRuntime(current.script)
    }

    /// Rebuilds the Lua state after a reload; keeps the old one if the new fails to load.
    private func refresh() {
        let current = source.current.withLock { $0 }
        guard current.generation != generation else { return }
        generation = current.generation
        do {
            runtime = try source.makeRuntime(current.script)
        } catch {
            source.logger.error("worker keeps its previous policy: \(error)")
        }
    }

    func layout(_ file: FileFacts, allocation: inout AllocationState) throws(NamespaceError) -> Fmap {
        refresh()
        do {
            return try runtime.layout(for: file, allocation: &allocation)
        } catch {
            throw NamespaceError(Errno(rawValue: error.errno), error.description)
        }
    }

    func resolveDevice(_ index: UInt32, devicePath: String) throws(NamespaceError) -> String {
        try run { runtime throws(PolicyError) in try runtime.resolveDevice(index) }
    }

    func placement(_ file: FileFacts) throws(NamespaceError) -> Placement {
        try run { runtime throws(PolicyError) in try runtime.placement(for: file) }
    }

    func shouldCommitOnRelease(_ file: FileFacts) throws(NamespaceError) -> Bool {
        try run { runtime throws(PolicyError) in try runtime.shouldCommitOnRelease(file) }
    }

    /// Runs a hook on the current policy, turning its error into the errno the kernel gets.
    private func run<T>(_ hook: (PolicyRuntime) throws(PolicyError) -> T) throws(NamespaceError) -> T {
        refresh()
        do {
            return try hook(runtime)
        } catch {
            throw NamespaceError(Errno(rawValue: error.errno), error.description)
        }
    }
}
