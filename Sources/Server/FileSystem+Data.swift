import Fmap
import FuseWire
import SystemPackage

/// Reads and writes: each file offset resolves through the fmap to mapped device memory.
extension FileSystem {
    /// The resolver of a DAX file, or why there is none.
    private func resolver(of id: UInt64) -> Result<FmapResolver?, NamespaceError> {
        state.withLock { state in
            switch state.namespace[id]?.kind {
            case .file(.dax(_, let resolver))?: return .success(resolver)
            case .file(.unallocated)?: return .success(nil)
            case .file(.passthrough)?: return .failure(NamespaceError(.badFileDescriptor, "node \(id) is a passthrough file read without its handle"))
            case .directory?: return .failure(NamespaceError(.isDirectory, "node \(id) is a directory"))
            case nil: return .failure(NamespaceError(.noSuchFileOrDirectory, "node \(id) is gone"))
            }
        }
    }

    /// Where file bytes [offset, offset + count) live, clipped to the file's size: one
    /// (device, offset, length) run per contiguous piece.
    private func spans(_ resolver: FmapResolver, offset: UInt64, count: Int) -> [(device: Int, offset: UInt64, count: Int)] {
        var spans: [(device: Int, offset: UInt64, count: Int)] = []
        var position = offset
        var remaining = UInt64(count)
        while remaining > 0, let location = resolver.resolve(position) {
            let take = min(remaining, location.contiguousBytes)
            spans.append((Int(location.device), location.deviceOffset, Int(take)))
            position += take
            remaining -= take
        }
        return spans
    }

    func open(_ unique: UInt64, _ id: UInt64, _ arguments: OpenArguments) -> Response {
        guard let node = state.withLock({ $0.namespace[id] }) else { return .error(unique, .noSuchFileOrDirectory) }
        guard !node.isDirectory else { return .error(unique, .isDirectory) }
        let accessMode = arguments.flags & UInt32(O_ACCMODE)
        if node.readOnly && accessMode != UInt32(O_RDONLY) { return .error(unique, .readOnlyFileSystem) }
        return .reply(unique, OpenReply(fileHandle: 0))
    }

    func openDirectory(_ unique: UInt64, _ id: UInt64) -> Response {
        guard let node = state.withLock({ $0.namespace[id] }) else { return .error(unique, .noSuchFileOrDirectory) }
        guard node.isDirectory else { return .error(unique, .notDirectory) }
        return .reply(unique, OpenReply(fileHandle: 0))
    }

    func read(_ unique: UInt64, _ id: UInt64, _ arguments: ReadArguments) -> Response {
        switch resolver(of: id) {
        case .failure(let error): return .error(unique, error.errno)
        case .success(nil): return .data(unique: unique, pieces: [])
        case .success(let resolver?):
            do {
                let memory = try spans(resolver, offset: arguments.offset, count: Int(arguments.size)).map {
                    try devices[$0.device].bytes(at: $0.offset, count: $0.count)
                }
                return .data(unique: unique, pieces: memory)
            } catch {
                logger.error("read of node \(id): \(error)")
                return .error(unique, .ioError)
            }
        }
    }

    func write(_ unique: UInt64, _ id: UInt64, _ arguments: WriteArguments, _ data: ArraySlice<UInt8>) -> Response {
        let resolved: FmapResolver
        switch resolver(of: id) {
        case .failure(let error): return .error(unique, error.errno)
        case .success(nil): return refuse(unique, "write to node \(id)", NamespaceError(.fileTooLarge, "the file has no memory yet: set its size first (truncate or fallocate)"))
        case .success(let resolver?): resolved = resolver
        }
        let (end, overflow) = arguments.offset.addingReportingOverflow(UInt64(data.count))
        guard !overflow, end <= resolved.fileSize else {
            return refuse(unique, "write to node \(id)", NamespaceError(.fileTooLarge, "bytes [\(arguments.offset), \(end)) pass the fixed size \(resolved.fileSize)"))
        }
        var source = data.startIndex
        do {
            for span in spans(resolved, offset: arguments.offset, count: data.count) {
                let memory = try devices[span.device].mutableBytes(at: span.offset, count: span.count)
                data[source..<(source + span.count)].withUnsafeBytes { memory.copyMemory(from: $0) }
                source += span.count
            }
        } catch {
            logger.error("write to node \(id): \(error)")
            return .error(unique, error.errno)
        }
        guard source == data.endIndex else { return .error(unique, .ioError) }
        return .reply(unique, SizeReply(size: UInt32(data.count)))
    }

    /// Flushes the file's device memory (msync for file-backed devices).
    func fsync(_ unique: UInt64, _ id: UInt64) -> Response {
        guard let fmap = state.withLock({ $0.namespace[id]?.fmap }) else { return .ok(unique) }
        for range in fmap.claimedRanges {
            do {
                try devices[Int(range.device)].flush(at: range.offset, count: Int(range.length))
            } catch {
                logger.error("fsync of node \(id): \(error)")
                return .error(unique, error.errno)
            }
        }
        return .ok(unique)
    }
}

#if canImport(Glibc)
import Glibc
#endif
