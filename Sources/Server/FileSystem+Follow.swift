#if canImport(Glibc)
import Glibc
#endif
import FuseWire
import Metadata

/// A follower: the file system of a host that mounts the devices read-only and follows the log
/// another host (the leader) writes.
extension FileSystem {
    /// Whether this file system only follows the log (its image was opened read-only).
    public var isFollower: Bool { image.access == .readOnly }

    /// EROFS for every request that would change something, when the image is read-only: only
    /// the leader writes the log and allocates. Nil for requests that may go ahead.
    func readOnlyRefusal(_ request: Request) -> Response? {
        guard isFollower else { return nil }
        switch request.operation {
        case .setattr, .mkdir, .create, .unlink, .rmdir, .rename, .write, .fallocate, .setxattr, .removexattr:
            return .error(request.unique, .readOnlyFileSystem)
        case .open(let arguments):
            let writes = arguments.flags & UInt32(O_ACCMODE) != UInt32(O_RDONLY) || arguments.flags & UInt32(O_TRUNC) != 0
            return writes ? .error(request.unique, .readOnlyFileSystem) : nil
        default:
            return nil
        }
    }

    /// Adds to the tree the entries the leader committed since the last look, through the same
    /// per-entry code as replay at mount. New names are found by the kernel at its next lookup:
    /// a failed lookup (ENOENT) is not cached, so nothing needs invalidating.
    func takeIn(_ progress: LogProgress) {
        for finding in progress.findings {
            if finding.isFault {
                logger.error("follow: \(finding)")
            } else {
                logger.warning("follow: \(finding)")
            }
        }
        guard let last = progress.entries.last else { return }
        let now = now()
        let problems = state.withLock { state -> [String] in
            var problems: [String] = []
            for indexed in progress.entries {
                do throws(NamespaceError) {
                    try state.namespace.apply(indexed, now: now)
                } catch {
                    problems.append("log entry \(indexed.index) cannot be placed in the tree: \(error)")
                }
            }
            state.allocation = image.allocation
            return problems
        }
        for problem in problems { logger.warning("follow: \(problem)") }
        logger.debug("follow: took in \(progress.entries.count) entries, through log entry \(last.index)")
    }
}
