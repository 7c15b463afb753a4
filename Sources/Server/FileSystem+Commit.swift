import Fmap
import FuseWire
import Metadata
import Policy
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Committing a passthrough file to DAX: allocate by policy, copy the staged bytes into
/// device memory, log the fmap, switch the file, tell the kernel, and only then remove the
/// staged copy. A crash before the log append leaves the staged file (the memory was never
/// logged, so it is free again); after it, the DAX file is complete and the restart removes
/// the leftover staged copy.
extension FileSystem {
    /// Commits node `id`; nil on success, or why not.
    func commit(_ id: UInt64, context: WorkerContext) -> NamespaceError? {
        let prepared: (backing: String, path: String, fmap: Fmap)
        switch reserveCommit(id, policy: context.policy) {
        case .success(let reserved): prepared = reserved
        case .failure(let error): return error
        }
        do throws(NamespaceError) {
            let recordedPath = try relativePath(prepared.path)
            Failpoint.reach("commit-reserved", logger: logger)
            let staged = try copyStaged(prepared.backing, into: prepared.fmap, node: id)
            try zeroMemory(of: prepared.fmap, notHoldingFileBytesBelow: prepared.fmap.fileSize)
            Failpoint.reach("commit-copied", logger: logger)
            // The staged file holds the truth of a passthrough file's owner and mode (chmod
            // and chown went to it): the log and the DAX file take them from there.
            let (uid, gid, permissions) = (staged.st_uid, staged.st_gid, UInt32(staged.st_mode) & 0o7777)
            try state.withLock { state throws(NamespaceError) in
                guard state.namespace[id] != nil else { throw NamespaceError(.noSuchFileOrDirectory, "the file went away") }
                do throws(ImageError) {
                    try image.appendFile(FileEntry(path: recordedPath, uid: uid, gid: gid, mode: permissions, fmap: prepared.fmap))
                } catch {
                    throw NamespaceError(error.errno, "\(error)")
                }
                // The file's modification time is its staged file's (tar and cp -p set it there).
                state.namespace.setContent(.dax(prepared.fmap, FmapResolver(prepared.fmap)), of: id,
                                           now: UInt64(bitPattern: Int64(staged.st_mtim.tv_sec)))
                state.namespace.update(id) { node in
                    (node.uid, node.gid, node.mode) = (uid, gid, Self.regularType | permissions)
                }
                state.commits[id] = nil
            }
        } catch {
            state.withLock { state in
                state.allocation.release(prepared.fmap)
                state.commits[id] = nil
            }
            return error
        }
        logger.info("committed /\(prepared.path) to DAX: \(prepared.fmap.summary)")
        Failpoint.reach("commit-logged", logger: logger)
        // The kernel may hold the passthrough file's attributes and pages: drop them.
        try? context.channel.send(Reply.notification(InvalidateInodeNotification(nodeID: id, offset: 0, length: 0)))
        do {
            try removeStaged(prepared.backing)
        } catch {
            logger.warning("committed /\(prepared.path), but removing its staged copy failed (\(error)); the next start removes it")
        }
        return nil
    }

    /// Checks the file can be committed and takes the commit (from then on writers are
    /// refused, and rename and unlink wait); then lays it out and claims its memory
    /// (`layOutAndClaim`, outside the namespace lock).
    private func reserveCommit(_ id: UInt64, policy: any WorkerPolicy) -> Result<(backing: String, path: String, fmap: Fmap), NamespaceError> {
        let taken = state.withLock { state -> Result<(backing: String, path: String, facts: FileFacts), NamespaceError> in
            guard let node = state.namespace[id] else { return .failure(NamespaceError(.noSuchFileOrDirectory, "node \(id) is gone")) }
            let path = state.namespace.relativePath(of: id)
            guard let backing = node.backing else {
                return .failure(NamespaceError(.invalidArgument, "/\(path) is not a passthrough file; only those can be committed"))
            }
            guard state.commits[id] == nil else { return .failure(NamespaceError(.resourceBusy, "/\(path) is already being committed")) }
            guard openFiles.count(of: id, writable: true) == 0 else {
                return .failure(NamespaceError(.resourceBusy, "/\(path) is open for writing; close it first"))
            }
            let facts = self.facts(of: node, path: path)
            guard facts.size > 0 else {
                return .failure(NamespaceError(.invalidArgument, "/\(path) is empty; famfs files need memory, so there is nothing to commit"))
            }
            do throws(NamespaceError) { _ = try relativePath(path) } catch { return .failure(error) }
            state.commits[id] = (0, facts.size)
            return .success((backing, path, facts))
        }
        let commit: (backing: String, path: String, facts: FileFacts)
        switch taken {
        case .success(let reserved): commit = reserved
        case .failure(let error): return .failure(error)
        }
        switch layOutAndClaim(commit.facts, path: commit.path, policy: policy) {
        case .success(let fmap):
            return .success((commit.backing, commit.path, fmap))
        case .failure(let error):
            state.withLock { $0.commits[id] = nil }
            return .failure(error)
        }
    }

    /// Reads the staged file straight into the device memory its fmap names, then flushes it.
    /// Returns the staged file's status as the copy ended.
    private func copyStaged(_ backing: String, into fmap: Fmap, node id: UInt64) throws(NamespaceError) -> stat {
        guard let staging else { throw NamespaceError(.ioError, "no staging directory") }
        let source: FileDescriptor
        do { source = try staging.open(backing, flags: O_RDONLY) } catch { throw NamespaceError(error.errno, error.description) }
        defer { try? source.close() }
        let resolver = FmapResolver(fmap)
        var offset: UInt64 = 0
        while offset < fmap.fileSize, let location = resolver.resolve(offset) {
            let count = Int(min(location.contiguousBytes, 8 << 20))
            do {
                let memory = try devices[Int(location.device)].mutableBytes(at: location.deviceOffset, count: count)
                let read = try source.read(fromAbsoluteOffset: Int64(offset), into: memory)
                guard read == count else {
                    throw NamespaceError(.resourceBusy, "the staged file shrank during the commit (\(read) of \(count) bytes at \(offset))")
                }
                try devices[Int(location.device)].flush(at: location.deviceOffset, count: count)
            } catch let error as NamespaceError {
                throw error
            } catch let error as Errno {
                throw NamespaceError(error, "copying \(backing) into device memory")
            } catch {
                throw NamespaceError(.ioError, "copying \(backing) into device memory: \(error)")
            }
            offset += UInt64(count)
            state.withLock { $0.commits[id]?.copied = offset }
            Failpoint.reach("commit-copying", logger: logger)
        }
        var info = stat()
        guard fstat(source.rawValue, &info) == 0, UInt64(info.st_size) == fmap.fileSize else {
            throw NamespaceError(.resourceBusy, "the staged file changed size during the commit")
        }
        return info
    }
}
