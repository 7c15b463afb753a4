import Allocation
import Fmap
import FuseWire
import Metadata
import Policy
import SystemPackage

/// Giving a file its memory: the first size set (truncate or fallocate from 0) asks the
/// policy for a layout, validates it, logs it, and only then answers.
extension FileSystem {
    func setattr(_ unique: UInt64, _ id: UInt64, _ arguments: SetattrArguments, caller: InHeader,
                 layout: any WorkerPolicy) -> Response {
        if let node = state.withLock({ $0.namespace[id] }), let backing = node.backing {
            do throws(NamespaceError) {
                guard !arguments.valid.contains(.size) || state.withLock({ $0.commits[id] == nil }) else {
                    throw NamespaceError(.resourceBusy, "the file is being committed to DAX")
                }
                try setattrPassthrough(backing, arguments)
            } catch {
                return refuse(unique, "setattr of \(backing)", error)
            }
            return .reply(unique, AttributesReply(validity: validity, attributes: attributes(of: node)))
        }
        if arguments.valid.contains(.size) {
            if let error = setSize(id, to: arguments.size, caller: caller, layout: layout) {
                return refuse(unique, "truncate of node \(id) to \(arguments.size)", error)
            }
        }
        let changesIdentity = !arguments.valid.isDisjoint(with: [.mode, .uid, .gid])
        let result = state.withLock { state -> Result<Node, NamespaceError> in
            guard let node = state.namespace[id] else { return .failure(NamespaceError(.noSuchFileOrDirectory, "node \(id) is gone")) }
            if changesIdentity {
                // Mode and owner are logged with the file; once logged they cannot change.
                guard case .file(.unallocated) = node.kind else {
                    return .failure(NamespaceError(.notPermitted, "\(state.namespace.relativePath(of: id)): mode and owner are fixed once logged"))
                }
            }
            state.namespace.update(id) { node in
                if arguments.valid.contains(.mode) { node.mode = (node.mode & Self.typeMask) | (arguments.mode & 0o7777) }
                if arguments.valid.contains(.uid) { node.uid = arguments.uid }
                if arguments.valid.contains(.gid) { node.gid = arguments.gid }
                if arguments.valid.contains(.mtime) { node.modified = arguments.mtime }
                if arguments.valid.contains(.mtimeNow) { node.modified = now() }
            }
            return .success(state.namespace[id]!)
        }
        switch result {
        case .success(let node): return .reply(unique, AttributesReply(validity: validity, attributes: attributes(of: node)))
        case .failure(let error): return refuse(unique, "setattr of node \(id)", error)
        }
    }

    func fallocate(_ unique: UInt64, _ id: UInt64, _ arguments: FallocateArguments, caller: InHeader,
                   layout: any WorkerPolicy) -> Response {
        if let backing = state.withLock({ $0.namespace[id]?.backing }) {
            guard let file = openFiles[arguments.fileHandle] else { return .error(unique, .badFileDescriptor) }
            guard arguments.mode == 0 else { return .error(unique, .notSupported) }
            guard let offset = off_t(exactly: arguments.offset), let length = off_t(exactly: arguments.length) else {
                return .error(unique, .fileTooLarge)
            }
            let result = posix_fallocate(file.descriptor.rawValue, offset, length)
            return result == 0 ? .ok(unique) : refuse(unique, "fallocate of \(backing)", NamespaceError(Errno(rawValue: result), "fallocate"))
        }
        guard arguments.mode == 0 else { return .error(unique, .notSupported) }
        let (end, overflow) = arguments.offset.addingReportingOverflow(arguments.length)
        guard !overflow else { return .error(unique, .fileTooLarge) }
        let current = state.withLock { $0.namespace[id]?.size } ?? 0
        if end <= current { return .ok(unique) }
        if let error = setSize(id, to: end, caller: caller, layout: layout) {
            return refuse(unique, "fallocate of node \(id) to \(end)", error)
        }
        return .ok(unique)
    }

    /// Sets a file's size: a no-op when unchanged, an allocation when the file has none,
    /// refused (EPERM) for a file whose memory is already fixed. Returns the refusal, if any.
    ///
    /// The policy lays the file out outside the namespace lock, from a snapshot of the
    /// allocation state, so a slow policy (up to its time limit) does not stall every other
    /// operation. Its fmap is then claimed in the live state under the lock; should another
    /// allocation have taken some of that memory meanwhile, the layout runs again.
    func setSize(_ id: UInt64, to size: UInt64, caller: InHeader, layout: any WorkerPolicy) -> NamespaceError? {
        var attempt = 0
        while true {
            attempt += 1
            let sizing: SizingStep
            switch prepareSizing(id, to: size) {
            case .finished(let error): return error
            case .layOut(let prepared): sizing = prepared
            }
            var allocation = sizing.allocation
            let fmap: Fmap
            do throws(NamespaceError) {
                fmap = try layout.layout(sizing.facts, allocation: &allocation).asRecorded
                try check(fmap, for: sizing.facts)
            } catch {
                return error
            }
            switch recordSizing(id, sizing, fmap: fmap, retrying: attempt < Self.sizingAttempts) {
            case .finished(let error): return error
            case .layOut: continue
            }
        }
    }

    /// How often a sizing lays its file out again when other allocations took its memory first.
    static let sizingAttempts = 4

    /// What a sizing's policy call needs, taken under the lock.
    struct SizingStep {
        var facts: FileFacts
        var path: String
        var allocation: AllocationState
    }

    enum SizingOutcome {
        /// Done: nil for success, or the refusal.
        case finished(NamespaceError?)
        /// The policy must lay the file out (again).
        case layOut(SizingStep)
    }

    /// Checks the node can be sized and takes what the policy needs.
    private func prepareSizing(_ id: UInt64, to size: UInt64) -> SizingOutcome {
        state.withLock { state -> SizingOutcome in
            guard let node = state.namespace[id] else { return .finished(NamespaceError(.noSuchFileOrDirectory, "node \(id) is gone")) }
            let path = state.namespace.relativePath(of: id)
            switch node.kind {
            case .directory:
                return .finished(NamespaceError(.isDirectory, "\(path) is a directory"))
            case .file(.dax(let fmap, _)):
                if fmap.fileSize == size { return .finished(nil) }
                return .finished(NamespaceError(.notPermitted, "/\(path) is a DAX file of \(fmap.fileSize) bytes; famfs files keep the size they were allocated with"))
            case .file(.passthrough):
                return .finished(NamespaceError(.invalidArgument, "/\(path) is a passthrough file; its size is its staged file's"))
            case .file(.unallocated):
                if size == 0 { return .finished(nil) }
                guard !node.readOnly else { return .finished(NamespaceError(.readOnlyFileSystem, "/\(path) is read-only")) }
                do throws(NamespaceError) { _ = try relativePath(path) } catch { return .finished(error) }
                let facts = FileFacts(path: "/" + path, size: size, uid: node.uid, gid: node.gid, mode: node.mode)
                return .layOut(SizingStep(facts: facts, path: path, allocation: state.allocation))
            }
        }
    }

    /// Claims `fmap` in the live allocation state, logs the file and gives it its memory; or,
    /// when the file changed or its memory went to another file meanwhile, asks for another layout.
    private func recordSizing(_ id: UInt64, _ sizing: SizingStep, fmap: Fmap, retrying: Bool) -> SizingOutcome {
        state.withLock { state -> SizingOutcome in
            guard let node = state.namespace[id], case .file(.unallocated) = node.kind,
                  state.namespace.relativePath(of: id) == sizing.path else {
                // Sized, renamed or removed while the policy ran: decide again from what it is now.
                return retrying ? .layOut(sizing) : .finished(NamespaceError(.resourceBusy, "/\(sizing.path) changed while it was laid out"))
            }
            var allocation = state.allocation
            do {
                try allocation.claim(fmap, owner: "/\(sizing.path)")
            } catch {
                guard retrying else {
                    return .finished(NamespaceError(.resourceBusy, "/\(sizing.path): other files kept taking the memory its layouts chose"))
                }
                return .layOut(sizing)
            }
            do throws(NamespaceError) {
                let recordedPath = try relativePath(sizing.path)
                do throws(ImageError) {
                    try image.appendFile(FileEntry(path: recordedPath, uid: node.uid, gid: node.gid,
                                                   mode: node.mode & 0o7777, fmap: fmap))
                } catch {
                    throw NamespaceError(error.errno, "\(error)")
                }
            } catch {
                return .finished(error)
            }
            state.allocation = allocation
            state.namespace.setContent(.dax(fmap, FmapResolver(fmap)), of: id, now: now())
            logger.info("allocated /\(sizing.path): \(sizing.facts.size) bytes, \(fmap.summary)")
            return .finished(nil)
        }
    }

    /// The host's own check of a policy's answer, whatever the policy runtime already checked.
    func check(_ fmap: Fmap, for file: FileFacts) throws(NamespaceError) {
        guard fmap.fileSize == file.size else {
            throw NamespaceError(.ioError, "layout of \(file.path) returned file_size \(fmap.fileSize), expected \(file.size)")
        }
        do {
            try fmap.validate(limits: limits, deviceSizes: deviceSizes)
        } catch {
            throw NamespaceError(.ioError, "layout of \(file.path) returned an invalid fmap: \(error)")
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
