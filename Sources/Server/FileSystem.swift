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
    }

    let state: Mutex<State>
    /// Set once at INIT when the kernel maps files itself (see `FileSystem+Famfs`).
    let famfsState = Mutex<KernelProfile?>(nil)
    let image: FamfsImage
    let devices: [MappedDevice]
    let logger: Logger
    /// What a policy's fmap must satisfy before it is logged.
    let limits: FmapLimits
    let deviceSizes: [UInt64]
    /// How long the kernel may cache names and attributes.
    let validity = CacheValidity(seconds: 1)

    /// Serves `image`; the namespace is rebuilt from its log, and what cannot be placed is logged.
    public init(image: FamfsImage, limits: FmapLimits = .kernel, logger: Logger) {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        let (namespace, problems) = Namespace.replaying(image, now: UInt64(spec.tv_sec))
        for finding in image.findings { logger.warning("replay: \(finding)") }
        for problem in problems { logger.warning("replay: \(problem)") }
        state = Mutex(State(namespace: namespace))
        self.image = image
        devices = image.devices
        self.limits = limits
        self.logger = logger
        deviceSizes = image.devices.map(\.size)
    }

    /// Answers one request. `layout` is the calling worker's own policy instance.
    func handle(_ request: Request, layout: any WorkerPolicy) -> Response {
        let unique = request.unique
        let node = request.nodeID
        switch request.operation {
        case .lookup(let name): return lookup(unique, parent: node, name: name)
        case .forget, .batchForget, .interrupt: return .none
        case .getattr: return attributes(unique, node)
        case .setattr(let arguments): return setattr(unique, node, arguments, caller: request.header, layout: layout)
        case .mkdir(let arguments, let name): return mkdir(unique, parent: node, name: name, arguments, caller: request.header)
        case .create(let arguments, let name): return create(unique, parent: node, name: name, arguments, caller: request.header)
        case .unlink(let name): return remove(unique, parent: node, name: name, directory: false)
        case .rmdir(let name): return remove(unique, parent: node, name: name, directory: true)
        case .rename(let arguments, let oldName, let newName):
            return rename(unique, parent: node, oldName: oldName, to: arguments.newDirectory, newName: newName, flags: arguments.flags)
        case .open(let arguments): return open(unique, node, arguments)
        case .opendir: return openDirectory(unique, node)
        case .read(let arguments): return read(unique, node, arguments)
        case .write(let arguments, let data): return write(unique, node, arguments, data)
        case .fsync: return fsync(unique, node)
        case .release, .releasedir, .flush, .fsyncdir, .access, .destroy: return .ok(unique)
        case .readdir(let arguments): return readdir(unique, node, arguments, plus: false)
        case .readdirplus(let arguments): return readdir(unique, node, arguments, plus: true)
        case .statfs: return statfs(unique)
        case .getxattr(let arguments, let name): return getxattr(unique, node, name: name, size: arguments.size)
        case .listxattr(let arguments): return listxattr(unique, node, size: arguments.size)
        case .setxattr, .removexattr: return .error(unique, .notSupported)
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
