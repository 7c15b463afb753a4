import Allocation
import Devices
import Fmap
import FuseWire
import Logging
import Metadata
import Synchronization
import SystemPackage

/// The mounted file system: the namespace over a famfs image, and the handlers that turn
/// each FUSE operation into a reply.
///
/// Shared by all workers. Namespace changes happen under one lock and are appended to the
/// image's log before they are answered; reads and writes resolve under the lock and copy
/// device memory outside it.
public final class FileSystem: Sendable {
    struct State: Sendable {
        var namespace: Namespace
        /// Memory taken: everything in the log plus commits in flight.
        var allocation: AllocationState
        /// Passthrough files being committed: bytes copied so far, of the total.
        var commits: [UInt64: (copied: UInt64, total: UInt64)] = [:]
    }

    let state: Mutex<State>
    /// Set once at INIT when the kernel maps files itself (see `FileSystem+Famfs`).
    let famfsState = Mutex<KernelProfile?>(nil)
    let image: FamfsImage
    let devices: [MappedDevice]
    /// Where passthrough files live; nil when the daemon runs without `--staging`.
    let staging: StagingArea?
    let openFiles = OpenFiles()
    let kernelBackings = KernelBackings()
    let counters = RequestCounters()
    /// How many workers commit at once; the server sets the limit.
    let commitSlots = CommitSlots()
    /// Whether the kernel does passthrough I/O itself (FUSE_PASSTHROUGH negotiated).
    let kernelPassthrough = Mutex(false)
    let logger: Logger
    /// What a policy's fmap must satisfy before it is logged.
    let limits: FmapLimits
    let deviceSizes: [UInt64]
    /// Bytes all devices hold together.
    var capacity: UInt64 { deviceSizes.reduce(0, +) }
    /// How long the kernel may cache names and attributes.
    let validity = CacheValidity(seconds: 1)

    /// Serves `image`; the namespace is rebuilt from its log, and what cannot be placed is logged.
    /// Passthrough files found in `staging` join the tree; a staged copy of a file the log
    /// already holds as DAX is the leftover of a finished commit and is removed.
    public init(image: FamfsImage, staging: StagingArea? = nil, limits: FmapLimits = .kernel, logger: Logger) {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var (namespace, problems) = Namespace.replaying(image, now: UInt64(spec.tv_sec))
        if let staging {
            problems += namespace.addStagedFiles(from: staging, now: UInt64(spec.tv_sec), logger: logger)
        }
        for finding in image.findings { logger.warning("replay: \(finding)") }
        for problem in problems { logger.warning("replay: \(problem)") }
        state = Mutex(State(namespace: namespace, allocation: image.allocation))
        self.image = image
        self.staging = staging
        devices = image.devices
        self.limits = limits
        self.logger = logger
        deviceSizes = image.devices.map(\.size)
    }

    /// Answers one request on behalf of the worker described by `context`.
    func handle(_ request: Request, context: WorkerContext) -> Response {
        let unique = request.unique
        let node = request.nodeID
        let layout = context.policy
        if let refusal = readOnlyRefusal(request) { return refusal }
        switch request.operation {
        case .lookup(let name): return lookup(unique, parent: node, name: name)
        case .forget, .batchForget, .interrupt: return .none
        case .getattr: return attributes(unique, node)
        case .setattr(let arguments): return setattr(unique, node, arguments, caller: request.header, layout: layout)
        case .mkdir(let arguments, let name): return mkdir(unique, parent: node, name: name, arguments, caller: request.header)
        case .create(let arguments, let name):
            return create(unique, parent: node, name: name, arguments, caller: request.header, context: context)
        case .unlink(let name): return remove(unique, parent: node, name: name, directory: false)
        case .rmdir(let name): return remove(unique, parent: node, name: name, directory: true)
        case .rename(let arguments, let oldName, let newName):
            return rename(unique, parent: node, oldName: oldName, to: arguments.newDirectory, newName: newName, flags: arguments.flags)
        case .open(let arguments):
            if let file = state.withLock({ $0.namespace[node] }) {
                if file.backing != nil { return openPassthrough(unique, file, flags: arguments.flags, context: context) }
                if let reply = openBesideStagedHandles(unique, file, flags: arguments.flags) { return reply }
            }
            return open(unique, node, arguments)
        case .opendir: return openDirectory(unique, node)
        case .read(let arguments):
            if let file = openFiles[arguments.fileHandle] { return readForwarded(unique, file, arguments) }
            counters.add("dax_reads")
            return read(unique, node, arguments)
        case .write(let arguments, let data):
            if let file = openFiles[arguments.fileHandle] { return writeForwarded(unique, file, arguments, data) }
            counters.add("dax_writes")
            return write(unique, node, arguments, data)
        case .fsync(let arguments):
            if let file = openFiles[arguments.fileHandle] { return fsyncPassthrough(unique, file) }
            return fsync(unique, node)
        case .release(let arguments): return release(unique, node, arguments, context: context)
        case .releasedir, .fsyncdir, .access, .destroy: return .ok(unique)
        // Nothing is buffered at close (writes reach the device or the staged file before they
        // are answered), so the kernel is told once to skip FLUSH: a close needs no round trip.
        case .flush: return .error(unique, .noFunction)
        case .readdir(let arguments): return readdir(unique, node, arguments, plus: false)
        case .readdirplus(let arguments): return readdir(unique, node, arguments, plus: true)
        case .statfs: return statfs(unique)
        case .getxattr(let arguments, let name): return getxattr(unique, node, name: name, size: arguments.size)
        case .listxattr(let arguments): return listxattr(unique, node, size: arguments.size)
        case .setxattr(_, let name, _): return setxattr(unique, node, name: name, context: context)
        case .removexattr: return .error(unique, .notSupported)
        case .fallocate(let arguments): return fallocate(unique, node, arguments, caller: request.header, layout: layout)
        case .getFmap: return getFmap(unique, node)
        case .getDaxdev: return getDaxdev(unique, index: node, policy: layout)
        case .initialize, .lseek, .unsupported: return .error(unique, .noFunction)
        }
    }

    func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return UInt64(spec.tv_sec)
    }
}

#if canImport(Glibc)
import Glibc
#endif
