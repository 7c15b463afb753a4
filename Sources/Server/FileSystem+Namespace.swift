import Fmap
import FuseWire
import Metadata
import Policy
import SystemPackage

/// Names, attributes and tree changes.
extension FileSystem {
    static let directoryType: UInt32 = 0o040000
    static let regularType: UInt32 = 0o100000
    static let typeMask: UInt32 = 0o170000

    func entryReply(for node: Node) -> EntryReply {
        EntryReply(nodeID: node.id, entryValidity: validity, attributeValidity: validity,
                   attributes: attributes(of: node))
    }

    /// A node's attributes; takes the namespace lock, so call it outside `state.withLock`.
    func attributes(of node: Node) -> Attributes {
        let linkCount: UInt32
        if case .directory = node.kind {
            linkCount = 2 + UInt32(state.withLock { $0.namespace.subdirectoryCount(of: node.id) })
        } else {
            linkCount = 1
        }
        if let backing = node.backing, let staged = try? stagedStatus(backing) {
            return Attributes(inode: node.id, size: UInt64(staged.st_size), blocks: UInt64(staged.st_blocks),
                              atime: Attributes.wireSeconds(staged.st_atim.tv_sec), mtime: Attributes.wireSeconds(staged.st_mtim.tv_sec),
                              ctime: Attributes.wireSeconds(staged.st_ctim.tv_sec),
                              atimeNanoseconds: UInt32(staged.st_atim.tv_nsec), mtimeNanoseconds: UInt32(staged.st_mtim.tv_nsec),
                              ctimeNanoseconds: UInt32(staged.st_ctim.tv_nsec),
                              mode: Self.regularType | (UInt32(staged.st_mode) & 0o7777), linkCount: 1,
                              uid: staged.st_uid, gid: staged.st_gid, blockSize: UInt32(FmapLimits.kib4))
        }
        let allocated = node.fmap?.allocatedBytes ?? 0
        return Attributes(inode: node.id, size: node.size, blocks: allocated / 512,
                          atime: node.modified, mtime: node.modified, ctime: node.modified,
                          mode: node.mode, linkCount: linkCount, uid: node.uid, gid: node.gid,
                          blockSize: UInt32(FmapLimits.mib2))
    }

    func lookup(_ unique: UInt64, parent: UInt64, name: String) -> Response {
        let found = state.withLock { $0.namespace.child(of: parent, named: name) }
        guard let found else { return .error(unique, .noSuchFileOrDirectory) }
        return .reply(unique, entryReply(for: found))
    }

    func attributes(_ unique: UInt64, _ id: UInt64) -> Response {
        guard let node = state.withLock({ $0.namespace[id] }) else { return .error(unique, .noSuchFileOrDirectory) }
        return .reply(unique, AttributesReply(validity: validity, attributes: attributes(of: node)))
    }

    func mkdir(_ unique: UInt64, parent: UInt64, name: String, _ arguments: MkdirArguments, caller: InHeader) -> Response {
        let mode = Self.directoryType | (arguments.mode & ~arguments.umask & 0o7777)
        let result = state.withLock { state -> Result<Node, NamespaceError> in
            do throws(NamespaceError) {
                try checkWritableDirectory(parent, in: state.namespace, adding: name)
                let path = try relativePath(joined(state.namespace.relativePath(of: parent), name))
                do throws(ImageError) {
                    try image.appendMkdir(DirectoryEntry(path: path, uid: caller.uid, gid: caller.gid, mode: mode & 0o7777))
                } catch {
                    throw NamespaceError(error.errno, "\(error)")
                }
                return .success(try state.namespace.add(name: name, parent: parent, kind: .directory(children: [:]),
                                                        mode: mode, uid: caller.uid, gid: caller.gid, now: now()))
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let node): return .reply(unique, entryReply(for: node))
        case .failure(let error): return refuse(unique, "mkdir \(name)", error)
        }
    }

    /// CREATE: the policy's `placement` decides (when there is a staging directory) whether
    /// the new file is DAX — memory comes with its first size — or a staged passthrough file.
    func create(_ unique: UInt64, parent: UInt64, name: String, _ arguments: CreateArguments, caller: InHeader,
                context: WorkerContext) -> Response {
        if let profile = famfsProfile {
            return refuse(unique, "create \(name)", NamespaceError(.notPermitted,
                "the \(profile) kernel maps files itself and cannot open a file before it has memory"))
        }
        let mode = Self.regularType | (arguments.mode & ~arguments.umask & 0o7777)
        let result = state.withLock { state -> Result<Node, NamespaceError> in
            do throws(NamespaceError) {
                try checkWritableDirectory(parent, in: state.namespace, adding: name)
                let path = joined(state.namespace.relativePath(of: parent), name)
                var content = FileContent.unallocated
                if staging != nil {
                    let facts = FileFacts(path: "/" + path, size: 0, uid: caller.uid, gid: caller.gid, mode: mode)
                    if case .passthrough(let backing) = try context.policy.placement(facts) {
                        let staged = try createStaged(backing, mountPath: path, mode: mode, uid: caller.uid, gid: caller.gid)
                        content = .passthrough(backing: staged)
                    }
                }
                // A DAX file goes into the log with its first size: refuse a path the log
                // cannot hold now, not at that later truncate.
                if case .unallocated = content { _ = try relativePath(path) }
                return .success(try state.namespace.add(name: name, parent: parent, kind: .file(content),
                                                        mode: mode, uid: caller.uid, gid: caller.gid, now: now()))
            } catch {
                return .failure(error)
            }
        }
        let node: Node
        switch result {
        case .success(let created): node = created
        case .failure(let error): return refuse(unique, "create \(name)", error)
        }
        guard node.backing != nil else {
            return .bytes(unique, entryReply(for: node).encoded + OpenReply(fileHandle: 0).encoded)
        }
        switch openStaged(node, flags: arguments.flags, context: context) {
        case .success(let open): return .bytes(unique, entryReply(for: node).encoded + open.encoded)
        case .failure(let error): return refuse(unique, "create \(name)", error)
        }
    }

    /// Files whose memory is logged cannot go: famfs's log has no delete. A created file
    /// that never got a size is not in the log yet and may be removed.
    func remove(_ unique: UInt64, parent: UInt64, name: String, directory: Bool) -> Response {
        let result = state.withLock { state -> Result<Void, NamespaceError> in
            guard let node = state.namespace.child(of: parent, named: name) else {
                return .failure(NamespaceError(.noSuchFileOrDirectory, "\(name) does not exist"))
            }
            if directory != node.isDirectory {
                return .failure(NamespaceError(directory ? .notDirectory : .isDirectory, "\(name) is the wrong kind of node"))
            }
            switch node.kind {
            case .file(.unallocated):
                break
            case .file(.passthrough(let backing)):
                guard state.commits[node.id] == nil else {
                    return .failure(NamespaceError(.resourceBusy, "\(name) is being committed to DAX"))
                }
                do throws(NamespaceError) { try removeStaged(backing) } catch { return .failure(error) }
            default:
                return .failure(NamespaceError(.notPermitted, "\(state.namespace.relativePath(of: node.id)) is recorded in the famfs log, which cannot record removals"))
            }
            state.namespace.remove(node.id)
            commitSlots.forget(node.id)
            return .success(())
        }
        switch result {
        case .success: return .ok(unique)
        case .failure(let error): return refuse(unique, directory ? "rmdir \(name)" : "unlink \(name)", error)
        }
    }

    func rename(_ unique: UInt64, parent: UInt64, oldName: String, to newParent: UInt64, newName: String, flags: UInt32) -> Response {
        let result = state.withLock { state -> Result<Void, NamespaceError> in
            guard let node = state.namespace.child(of: parent, named: oldName) else {
                return .failure(NamespaceError(.noSuchFileOrDirectory, "\(oldName) does not exist"))
            }
            guard state.commits[node.id] == nil else {
                return .failure(NamespaceError(.resourceBusy, "\(oldName) is being committed to DAX"))
            }
            guard node.isMovable else {
                return .failure(NamespaceError(.notPermitted, "\(state.namespace.relativePath(of: node.id)) is recorded in the famfs log, which cannot record renames"))
            }
            guard flags == 0 || flags == 1 else {
                return .failure(NamespaceError(.invalidArgument, "rename flags \(flags) are not supported"))
            }
            do throws(NamespaceError) {
                try checkWritableDirectory(newParent, in: state.namespace, adding: nil)
                if case .file(.unallocated) = node.kind {
                    _ = try relativePath(joined(state.namespace.relativePath(of: newParent), newName))
                }
                if let existing = state.namespace.child(of: newParent, named: newName), existing.id != node.id {
                    guard state.commits[existing.id] == nil else {
                        throw NamespaceError(.resourceBusy, "\(newName) is being committed to DAX")
                    }
                    guard flags == 0, existing.isMovable else {
                        throw NamespaceError(flags == 1 ? .fileExists : .notPermitted, "\(newName) exists and cannot be replaced")
                    }
                    if let backing = existing.backing { try removeStaged(backing) }
                    state.namespace.remove(existing.id)
                    commitSlots.forget(existing.id)
                }
                try state.namespace.move(node.id, to: newParent, name: newName, now: now())
                if let backing = node.backing { try retag(backing, mountPath: state.namespace.relativePath(of: node.id)) }
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success: return .ok(unique)
        case .failure(let error): return refuse(unique, "rename \(oldName)", error)
        }
    }

    func checkWritableDirectory(_ id: UInt64, in namespace: Namespace, adding name: String?) throws(NamespaceError) {
        guard let directory = namespace[id] else { throw NamespaceError(.noSuchFileOrDirectory, "directory \(id) does not exist") }
        guard directory.isDirectory else { throw NamespaceError(.notDirectory, "\(namespace.relativePath(of: id)) is not a directory") }
        guard !directory.readOnly else { throw NamespaceError(.readOnlyFileSystem, "\(namespace.relativePath(of: id)) is read-only") }
        if let name, namespace.child(of: id, named: name) != nil {
            throw NamespaceError(.fileExists, "\(name) already exists")
        }
    }

    /// Logs the refusal and answers with its errno.
    func refuse(_ unique: UInt64, _ operation: String, _ error: NamespaceError) -> Response {
        logger.notice("\(operation) refused: \(error.description) (\(error.errno))")
        return .error(unique, error.errno)
    }

    func joined(_ directory: String, _ name: String) -> String {
        directory.isEmpty ? name : directory + "/" + name
    }

    /// A path famfs's log can record, or the reason (ENAMETOOLONG past 79 bytes).
    func relativePath(_ path: String) throws(NamespaceError) -> RelativePath {
        do throws(MediaFormatError) {
            return try RelativePath(path)
        } catch {
            throw NamespaceError(error.errno, "\(error)")
        }
    }
}
