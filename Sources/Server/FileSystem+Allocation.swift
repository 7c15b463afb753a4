import Allocation
import Devices
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
                // A commit logs the size, mode and owner it read: no attribute may change meanwhile.
                guard state.withLock({ $0.commits[id] == nil }) else {
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
        let result = state.withLock { state -> Result<Node, NamespaceError> in
            guard let node = state.namespace[id] else { return .failure(NamespaceError(.noSuchFileOrDirectory, "node \(id) is gone")) }
            // Mode and owner are logged with the file; once logged they cannot change. Setting
            // them to what they are (tar and cp -a do) changes nothing and is allowed.
            let changesIdentity = (arguments.valid.contains(.mode) && arguments.mode & 0o7777 != node.mode & 0o7777)
                || (arguments.valid.contains(.uid) && arguments.uid != node.uid)
                || (arguments.valid.contains(.gid) && arguments.gid != node.gid)
            if changesIdentity {
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
    /// The layout runs outside the namespace lock (`layOutAndClaim`); should the file be
    /// sized, renamed or removed meanwhile, its memory is given back and it is decided again.
    func setSize(_ id: UInt64, to size: UInt64, caller: InHeader, layout: any WorkerPolicy) -> NamespaceError? {
        for _ in 0..<Self.layoutAttempts {
            let sizing: (facts: FileFacts, path: String)
            switch prepareSizing(id, to: size) {
            case .success(nil): return nil
            case .success(let prepared?): sizing = prepared
            case .failure(let error): return error
            }
            let fmap: Fmap
            switch layOutAndClaim(sizing.facts, path: sizing.path, policy: layout) {
            case .success(let claimed): fmap = claimed
            case .failure(let error): return error
            }
            do throws(NamespaceError) {
                try zeroMemory(of: fmap, notHoldingFileBytesBelow: 0)
            } catch {
                state.withLock { $0.allocation.release(fmap) }
                return error
            }
            switch recordSizing(id, path: sizing.path, size: size, fmap: fmap) {
            case .success?: return nil
            case .failure(let error)?: return error
            case nil: continue
            }
        }
        return NamespaceError(.resourceBusy, "node \(id) kept changing while it was laid out")
    }

    /// Zeroes the parts of `fmap`'s memory that file bytes `[0, start)` do not occupy, so
    /// a new file never shows bytes an earlier file, or an earlier file system, left there:
    /// not past its size either, which a mapping of its last page or chunk shows.
    func zeroMemory(of fmap: Fmap, notHoldingFileBytesBelow start: UInt64) throws(NamespaceError) {
        for range in fmap.rangesNotHoldingFileBytes(below: start) {
            var offset = range.offset
            while offset < range.offset + range.length {
                let count = Int(min(range.offset + range.length - offset, 8 << 20))
                do throws(DeviceError) {
                    let device = devices[Int(range.device)]
                    try device.zero(at: offset, count: count)
                    try device.flush(at: offset, count: count)
                } catch {
                    throw NamespaceError(.ioError, "zeroing the memory of a new file: \(error)")
                }
                offset += UInt64(count)
            }
        }
    }

    /// How often a layout runs again when what it was made for changed before it was claimed.
    static let layoutAttempts = 4

    /// Checks the node can be sized: nil when there is nothing to do, or the file's facts and path.
    private func prepareSizing(_ id: UInt64, to size: UInt64) -> Result<(facts: FileFacts, path: String)?, NamespaceError> {
        state.withLock { state in
            guard let node = state.namespace[id] else { return .failure(NamespaceError(.noSuchFileOrDirectory, "node \(id) is gone")) }
            let path = state.namespace.relativePath(of: id)
            switch node.kind {
            case .directory:
                return .failure(NamespaceError(.isDirectory, "\(path) is a directory"))
            case .file(.dax(let fmap, _)):
                if fmap.fileSize == size { return .success(nil) }
                return .failure(NamespaceError(.notPermitted, "/\(path) is a DAX file of \(fmap.fileSize) bytes; famfs files keep the size they were allocated with"))
            case .file(.passthrough):
                return .failure(NamespaceError(.invalidArgument, "/\(path) is a passthrough file; its size is its staged file's"))
            case .file(.unallocated):
                if size == 0 { return .success(nil) }
                guard !node.readOnly else { return .failure(NamespaceError(.readOnlyFileSystem, "/\(path) is read-only")) }
                do throws(NamespaceError) { _ = try relativePath(path) } catch { return .failure(error) }
                return .success((FileFacts(path: "/" + path, size: size, uid: node.uid, gid: node.gid, mode: node.mode), path))
            }
        }
    }

    /// Logs the file with its claimed `fmap` and gives it that memory, or the log's refusal.
    /// When the file is no longer the unallocated one at `path` the memory is given back, and
    /// nil asks for another round.
    private func recordSizing(_ id: UInt64, path: String, size: UInt64, fmap: Fmap) -> Result<Void, NamespaceError>? {
        state.withLock { state -> Result<Void, NamespaceError>? in
            guard let node = state.namespace[id], case .file(.unallocated) = node.kind,
                  state.namespace.relativePath(of: id) == path else {
                state.allocation.release(fmap)
                return nil
            }
            do throws(NamespaceError) {
                let recordedPath = try relativePath(path)
                do throws(ImageError) {
                    try image.appendFile(FileEntry(path: recordedPath, uid: node.uid, gid: node.gid,
                                                   mode: node.mode & 0o7777, fmap: fmap))
                } catch {
                    throw NamespaceError(error.errno, "\(error)")
                }
            } catch {
                state.allocation.release(fmap)
                return .failure(error)
            }
            state.namespace.setContent(.dax(fmap, FmapResolver(fmap)), of: id, now: now())
            logger.info("allocated /\(path): \(size) bytes, \(fmap.summary)")
            return .success(())
        }
    }

    /// Asks the policy for a file's layout outside the namespace lock, from a snapshot of
    /// the allocation state, so a slow policy (up to its time limit) does not stall every
    /// other operation; checks it, and claims its memory in the live state. Should another
    /// file have taken some of that memory meanwhile, the layout runs again. The caller owns
    /// the claim: it logs the file or gives the memory back.
    func layOutAndClaim(_ facts: FileFacts, path: String, policy: any WorkerPolicy) -> Result<Fmap, NamespaceError> {
        // No layout can hold more than all devices together; a policy need not be asked (its
        // arithmetic on a size near 2^64 could overflow).
        guard facts.size <= capacity else {
            return .failure(NamespaceError(.noSpace, "/\(path): \(facts.size) bytes is more than all \(deviceSizes.count) devices hold (\(capacity) bytes)"))
        }
        for _ in 0..<Self.layoutAttempts {
            var allocation = state.withLock { $0.allocation }
            do throws(NamespaceError) {
                let fmap = try policy.layout(facts, allocation: &allocation).asRecorded
                try check(fmap, for: facts)
                let claimed = state.withLock { state -> Bool in
                    var live = state.allocation
                    guard (try? live.claim(fmap, owner: "/\(path)")) != nil else { return false }
                    state.allocation = live
                    return true
                }
                if claimed { return .success(fmap) }
            } catch {
                return .failure(error)
            }
        }
        return .failure(NamespaceError(.resourceBusy, "/\(path): other files kept taking the memory its layouts chose"))
    }

    /// The host's own check of a policy's answer, whatever the policy runtime already checked.
    private func check(_ fmap: Fmap, for file: FileFacts) throws(NamespaceError) {
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
