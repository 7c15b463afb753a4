import CFuse
import FuseWire
import Logging
import Policy
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Passthrough files: regular files in the staging directory that the kernel reads and writes
/// itself (FUSE passthrough) or, where it cannot, that the daemon forwards I/O to.
extension FileSystem {
    var passthroughInKernel: Bool { kernelPassthrough.withLock { $0 } }

    /// Facts for the policy about a node, its size read from the staged file when it has one.
    func facts(of node: Node, path: String) -> FileFacts {
        let size = node.backing.flatMap { try? UInt64(stagedStatus($0).st_size) } ?? node.size
        return FileFacts(path: "/" + path, size: size, uid: node.uid, gid: node.gid, mode: node.mode)
    }

    /// How many `backing~N` names `createStaged` tries after the policy's own.
    static let stagedNameAttempts = 1000

    /// Creates `backing`, or the first of `backing~1`, `backing~2`, … that does not exist yet.
    private static func createFreeName(_ backing: String, in staging: StagingArea, mountPath: String,
                                       mode: UInt32) throws(StagingArea.StagingError) -> (FileDescriptor, String) {
        var attempt = 0
        while true {
            let name = attempt == 0 ? backing : "\(backing)~\(attempt)"
            do {
                return (try staging.create(name, mountPath: mountPath, mode: mode), name)
            } catch {
                guard error.errno == .fileExists, attempt < stagedNameAttempts else { throw error }
            }
            attempt += 1
        }
    }

    /// Creates the staged file for a new passthrough node; returns its backing path.
    /// The staged file's owner and mode are the file's (a restart reads them back), so they are
    /// the creator's, not the daemon's, and not cut by the daemon's umask.
    /// A staged file keeps its backing path when its file is renamed, so the path the policy
    /// names may be taken by a file that had this name before (`mv app.log app.log.1`, then a
    /// new app.log); the new file then gets the first free `backing~N`.
    func createStaged(_ backing: String, mountPath: String, mode: UInt32, uid: UInt32, gid: UInt32) throws(NamespaceError) -> String {
        guard let staging else {
            throw NamespaceError(.invalidArgument, "the policy placed /\(mountPath) as passthrough, but the daemon runs without --staging")
        }
        do {
            let (file, used) = try Self.createFreeName(backing, in: staging, mountPath: mountPath, mode: mode)
            defer { try? file.close() }
            let owned = (uid == geteuid() && gid == getegid()) || fchown(file.rawValue, uid, gid) == 0
            guard owned, fchmod(file.rawValue, mode_t(mode & 0o7777)) == 0 else {
                let error = Errno(rawValue: errno)
                try? staging.remove(used)
                throw NamespaceError(error, "cannot give staged file \(used) to uid \(uid) gid \(gid) mode \(String(mode & 0o7777, radix: 8))")
            }
            return used
        } catch let error as NamespaceError {
            throw error
        } catch let error as StagingArea.StagingError {
            throw NamespaceError(error.errno, error.description)
        } catch {
            throw NamespaceError(.ioError, "\(error)")
        }
    }

    /// Opens a passthrough file: registered with the kernel when it does passthrough I/O.
    func openPassthrough(_ unique: UInt64, _ node: Node, flags: UInt32, context: WorkerContext) -> Response {
        switch openStaged(node, flags: flags, context: context) {
        case .success(let reply): return .reply(unique, reply)
        case .failure(let error): return refuse(unique, "open of node \(node.id)", error)
        }
    }

    /// The open reply for a passthrough file, with a new handle on its staged file.
    func openStaged(_ node: Node, flags: UInt32, context: WorkerContext) -> Result<OpenReply, NamespaceError> {
        guard let backing = node.backing, let staging else { return .failure(NamespaceError(.ioError, "not a passthrough file")) }
        let accessMode = Int32(flags) & O_ACCMODE
        let writable = accessMode != O_RDONLY
        let descriptor: FileDescriptor
        do {
            descriptor = try staging.open(backing, flags: accessMode | (Int32(flags) & (O_TRUNC | O_APPEND)))
        } catch {
            return .failure(NamespaceError(error.errno, error.description))
        }
        var backingID: Int32?
        if passthroughInKernel {
            do {
                backingID = try kernelBackings.acquire(node.id, fuse: context.channel.descriptor) {
                    try staging.open(backing, flags: O_RDWR)
                }
            } catch {
                logger.warning("FUSE_DEV_IOC_BACKING_OPEN for \(backing) failed (\(error)); forwarding its I/O instead")
            }
        }
        // A commit checks for writers under the state lock, so a writer's handle is added
        // under it too: either the commit sees the handle, or the open sees the commit.
        let opened = OpenFile(node: node.id, descriptor: descriptor, backingID: backingID, writable: writable)
        let added = state.withLock { state -> UInt64? in
            guard !writable || (state.commits[node.id] == nil && state.namespace[node.id]?.backing == backing) else { return nil }
            return openFiles.add(opened)
        }
        guard let handle = added else {
            if backingID != nil { kernelBackings.release(node.id, fuse: context.channel.descriptor) }
            try? descriptor.close()
            return .failure(NamespaceError(.resourceBusy, "the file is being committed to DAX"))
        }
        guard let backingID else { return .success(OpenReply(fileHandle: handle)) }
        return .success(OpenReply(fileHandle: handle, flags: .passthrough, backingID: backingID))
    }

    /// An open of a file committed to DAX while handles opened before the commit still do
    /// passthrough I/O: the kernel keeps the inode bound to the staged file until they close
    /// and fails any other kind of open. So a reader joins them (the staged bytes are the
    /// committed bytes) and a writer gets EBUSY. Nil when no such handles are left.
    func openBesideStagedHandles(_ unique: UInt64, _ node: Node, flags: UInt32) -> Response? {
        guard kernelBackings.isRegistered(node.id) else { return nil }
        guard Int32(flags) & O_ACCMODE == O_RDONLY else {
            return refuse(unique, "open for writing of node \(node.id)",
                          NamespaceError(.resourceBusy, "handles opened before its commit to DAX are still open; retry once they close"))
        }
        guard let (backingID, descriptor) = kernelBackings.join(node.id) else { return nil }
        let handle = openFiles.add(OpenFile(node: node.id, descriptor: descriptor, backingID: backingID, writable: false))
        return .reply(unique, OpenReply(fileHandle: handle, flags: .passthrough, backingID: backingID))
    }

    /// READ of a passthrough file the kernel could not do itself.
    func readForwarded(_ unique: UInt64, _ file: OpenFile, _ arguments: ReadArguments) -> Response {
        counters.add("passthrough_reads_forwarded")
        guard let offset = Int64(exactly: arguments.offset) else { return .error(unique, .invalidArgument) }
        var buffer = [UInt8](repeating: 0, count: Int(arguments.size))
        do {
            let count = try buffer.withUnsafeMutableBytes { try file.descriptor.read(fromAbsoluteOffset: offset, into: $0) }
            return .bytes(unique, buffer.prefix(count))
        } catch {
            return .error(unique, (error as? Errno) ?? .ioError)
        }
    }

    /// WRITE to a passthrough file the kernel could not do itself.
    func writeForwarded(_ unique: UInt64, _ file: OpenFile, _ arguments: WriteArguments, _ data: ArraySlice<UInt8>) -> Response {
        counters.add("passthrough_writes_forwarded")
        guard let offset = Int64(exactly: arguments.offset) else { return .error(unique, .fileTooLarge) }
        do {
            let count = try data.withUnsafeBytes { try file.descriptor.write(toAbsoluteOffset: offset, $0) }
            return .reply(unique, SizeReply(size: UInt32(count)))
        } catch {
            return .error(unique, (error as? Errno) ?? .ioError)
        }
    }

    /// RELEASE: drops the handle; after the last one, asks the policy whether to commit.
    func release(_ unique: UInt64, _ id: UInt64, _ arguments: ReleaseArguments, context: WorkerContext) -> Response {
        guard let file = openFiles.remove(arguments.fileHandle) else { return .ok(unique) }
        if file.backingID != nil {
            kernelBackings.release(file.node, fuse: context.channel.descriptor)
        }
        try? file.descriptor.close()
        guard openFiles.count(of: id) == 0,
              let (node, path) = state.withLock({ s in s.namespace[id].map { ($0, s.namespace.relativePath(of: id)) } }),
              node.backing != nil else { return .ok(unique) }
        do {
            if try context.policy.shouldCommitOnRelease(facts(of: node, path: path)) {
                commitSlots.runOnRelease(id) { id in commitOnRelease(id, context: context) }
            }
        } catch {
            logger.error("on_release of /\(path) failed: \(error.description)")
        }
        return .ok(unique)
    }

    /// Commits a file its release asked to commit; a failure is logged, as no caller waits.
    /// One that another commit, or a writer, holds up is routine (the next release asks again).
    /// A failure that repeats the file's last one is not logged again.
    /// A file that waited and meanwhile went away or was committed is passed over.
    func commitOnRelease(_ id: UInt64, context: WorkerContext) {
        guard state.withLock({ $0.namespace[id]?.backing != nil }) else { return }
        let failure = commit(id, context: context)
        guard commitSlots.isNews(id, failure: failure?.description), let error = failure else { return }
        let path = state.withLock { state in state.namespace[id] == nil ? "node \(id)" : "/" + state.namespace.relativePath(of: id) }
        let level: Logger.Level = error.errno == .resourceBusy ? .info : error.errno == .noSpace ? .warning : .error
        logger.log(level: level, "commit of \(path) on release failed: \(error.description)")
    }

    func fsyncPassthrough(_ unique: UInt64, _ file: OpenFile) -> Response {
        Glibc.fsync(file.descriptor.rawValue) == 0 ? .ok(unique) : .error(unique, Errno(rawValue: errno))
    }

    /// `stat` of a staged file.
    func stagedStatus(_ backing: String) throws(NamespaceError) -> stat {
        guard let staging else { throw NamespaceError(.ioError, "no staging directory") }
        do {
            return try staging.status(backing)
        } catch {
            throw NamespaceError(error.errno, error.description)
        }
    }

    /// SETATTR of a passthrough file: applied to the staged file, which holds its truth.
    func setattrPassthrough(_ backing: String, _ arguments: SetattrArguments) throws(NamespaceError) {
        guard let staging else { throw NamespaceError(.ioError, "no staging directory") }
        let descriptor: FileDescriptor
        do {
            descriptor = try staging.open(backing, flags: arguments.valid.contains(.size) ? O_WRONLY : O_RDONLY)
        } catch {
            throw NamespaceError(error.errno, error.description)
        }
        defer { try? descriptor.close() }
        let fd = descriptor.rawValue
        var failed: Int32 = 0
        if arguments.valid.contains(.size) {
            guard let size = off_t(exactly: arguments.size) else { throw NamespaceError(.fileTooLarge, "size \(arguments.size) of staged file \(backing)") }
            if ftruncate(fd, size) != 0 { failed = errno }
        }
        if arguments.valid.contains(.mode), fchmod(fd, mode_t(arguments.mode & 0o7777)) != 0 { failed = errno }
        let uid = arguments.valid.contains(.uid) ? arguments.uid : UInt32.max
        let gid = arguments.valid.contains(.gid) ? arguments.gid : UInt32.max
        if uid != UInt32.max || gid != UInt32.max, fchown(fd, uid, gid) != 0 { failed = errno }
        if !arguments.valid.isDisjoint(with: [.atime, .mtime, .atimeNow, .mtimeNow]) {
            // UTIME_OMIT and UTIME_NOW from <sys/stat.h>, which Swift does not import.
            let omit = timespec(tv_sec: 0, tv_nsec: (1 << 30) - 2)
            let now = timespec(tv_sec: 0, tv_nsec: (1 << 30) - 1)
            let atime = arguments.valid.contains(.atimeNow) ? now
                : arguments.valid.contains(.atime) ? timespec(tv_sec: Attributes.seconds(fromWire: arguments.atime), tv_nsec: Int(arguments.atimeNanoseconds)) : omit
            let mtime = arguments.valid.contains(.mtimeNow) ? now
                : arguments.valid.contains(.mtime) ? timespec(tv_sec: Attributes.seconds(fromWire: arguments.mtime), tv_nsec: Int(arguments.mtimeNanoseconds)) : omit
            if futimens(fd, [atime, mtime]) != 0 { failed = errno }
        }
        if failed != 0 { throw NamespaceError(Errno(rawValue: failed), "setattr of staged file \(backing)") }
    }

    /// Records a passthrough file's new mount path on its staged file.
    func retag(_ backing: String, mountPath: String) throws(NamespaceError) {
        guard let staging else { return }
        do {
            let descriptor = try staging.open(backing, flags: O_RDONLY)
            defer { try? descriptor.close() }
            try staging.setMountPath(mountPath, of: descriptor)
        } catch {
            throw NamespaceError(error.errno, error.description)
        }
    }

    func removeStaged(_ backing: String) throws(NamespaceError) {
        do {
            try staging?.remove(backing)
        } catch {
            throw NamespaceError(error.errno, error.description)
        }
    }
}
