import Foundation
import Fmap
import FuseWire
import SystemPackage

/// Directory listings, file-system totals and the famfs extended attributes.
extension FileSystem {
    static let fmapAttribute = "user.famfs.fmap"
    static let modeAttribute = "user.famfs.mode"
    /// Setting it (any value) commits a passthrough file to DAX; the call returns when done.
    static let commitAttribute = "user.famfs.commit"
    /// During a commit: "copied total" in bytes.
    static let progressAttribute = "user.famfs.commit_progress"
    /// On the root: request counters as JSON.
    static let statsAttribute = "user.famfs.stats"

    /// A `fuse_dirent` takes at least 32 bytes: a 24-byte header and a name padded to 8.
    static let smallestDirectoryEntry = 32
    /// `d_type` values: DT_DIR and DT_REG.
    static let directoryEntryType: UInt32 = 4, fileEntryType: UInt32 = 8

    /// Entries are ".", "..", then the children in the order they were added. "." carries
    /// offset 1, ".." offset 2 and a child its cookie plus 2, so the kernel resumes after any
    /// entry and children added or removed meanwhile shift no other. A reply costs the
    /// entries it holds, wherever the listing resumes.
    func readdir(_ unique: UInt64, _ id: UInt64, _ arguments: ReadArguments, plus: Bool) -> Response {
        let fitting = Int(arguments.size) / (Self.smallestDirectoryEntry + (plus ? EntryReply.wireSize : 0))
        let offset = arguments.offset
        let listed = state.withLock { state -> [ListedEntry]? in
            guard let directory = state.namespace[id], directory.isDirectory,
                  let parent = state.namespace[directory.parent] else { return nil }
            var listed: [ListedEntry] = []
            for (index, (name, node)) in [(".", directory), ("..", parent)].enumerated() where UInt64(index) >= offset {
                let entry = DirectoryEntry(inode: node.id, nextOffset: UInt64(index + 1), type: Self.directoryEntryType, name: name)
                listed.append(ListedEntry(entry: entry, node: plus ? node : nil))
            }
            for child in state.namespace.children(of: id, after: max(offset, 2) - 2, limit: max(0, fitting - listed.count)) {
                let entry = DirectoryEntry(inode: child.id, nextOffset: child.cookie + 2,
                                           type: child.isDirectory ? Self.directoryEntryType : Self.fileEntryType, name: child.name)
                if plus {
                    guard let node = state.namespace[child.id] else { continue }
                    listed.append(ListedEntry(entry: entry, node: node))
                } else {
                    listed.append(ListedEntry(entry: entry, node: nil))
                }
            }
            return listed
        }
        guard let listed else { return .error(unique, .notDirectory) }
        var listing = DirectoryListing(capacity: Int(arguments.size))
        for item in listed {
            let fits: Bool
            if let node = item.node {
                // "." and ".." in READDIRPLUS carry no lookup: the kernel does not count them.
                let lookup = item.entry.nextOffset <= 2 ? EntryReply(nodeID: 0, entryValidity: .none, attributeValidity: .none,
                                                                     attributes: attributes(of: node)) : entryReply(for: node)
                fits = listing.append(item.entry, lookup: lookup)
            } else {
                fits = listing.append(item.entry)
            }
            guard fits else { break }
        }
        return .bytes(unique, listing.bytes.bytes)
    }

    /// A READDIR entry and, for READDIRPLUS only, its node (for the attributes).
    struct ListedEntry {
        var entry: DirectoryEntry
        var node: Node?
    }

    /// STATFS: bytes from the allocation state; "inodes" from the log, where each directory
    /// and DAX file takes one entry: free ones are the log's free slots.
    func statfs(_ unique: UInt64) -> Response {
        let (free, nodes) = state.withLock { state in
            (state.allocation.devices.reduce(0) { $0 + $1.freeBytes }, UInt64(state.namespace.nodes.count))
        }
        let freeSlots = image.freeSlots
        let blockSize = UInt64(FmapLimits.kib4)
        return .reply(unique, StatfsReply(blocks: capacity / blockSize, freeBlocks: free / blockSize, availableBlocks: free / blockSize,
                                          files: nodes + freeSlots, freeFiles: freeSlots, blockSize: UInt32(blockSize),
                                          maxNameLength: 255, fragmentSize: UInt32(blockSize)))
    }

    /// `user.famfs.fmap`: the fmap as JSON (the shape `famfs-policy eval --json` prints);
    /// `user.famfs.mode`: "dax" or "passthrough"; `user.famfs.commit_progress` while a commit
    /// runs; `user.famfs.stats` on the root.
    func getxattr(_ unique: UInt64, _ id: UInt64, name: String, size: UInt32) -> Response {
        guard let (node, progress) = state.withLock({ s in s.namespace[id].map { ($0, s.commits[id]) } }) else {
            return .error(unique, .noSuchFileOrDirectory)
        }
        let value: [UInt8]
        switch (name, node.kind) {
        case (Self.fmapAttribute, .file(.dax(let fmap, _))):
            guard let json = try? JSONEncoder.fmapEncoder.encode(fmap) else { return .error(unique, .ioError) }
            value = Array(json)
        case (Self.modeAttribute, .file(.passthrough)):
            value = Array("passthrough".utf8)
        case (Self.modeAttribute, .file):
            value = Array("dax".utf8)
        case (Self.progressAttribute, .file) where progress != nil:
            value = Array("\(progress!.copied) \(progress!.total)".utf8)
        case (Self.statsAttribute, _) where id == Namespace.rootID:
            let commits = commitSlots.usage
            let stats = counters.snapshot.merging(["commits_running": UInt64(commits.running),
                                                   "commit_slots": UInt64(commits.limit)]) { $1 }
            guard let json = try? JSONEncoder.fmapEncoder.encode(stats) else { return .error(unique, .ioError) }
            value = Array(json)
        default:
            return .error(unique, .noData)
        }
        return sized(unique, value, requested: size)
    }

    /// `user.famfs.commit` on a passthrough file commits it to DAX before answering; EBUSY
    /// when as many workers are committing as may (`CommitSlots`), for the caller to retry.
    /// (The kernel hands EAGAIN to the caller as EOPNOTSUPP.)
    func setxattr(_ unique: UInt64, _ id: UInt64, name: String, context: WorkerContext) -> Response {
        guard name == Self.commitAttribute else { return .error(unique, .notSupported) }
        var failure: NamespaceError?
        let ran = commitSlots.runNow({ failure = commit(id, context: context) },
                                     thenDraining: { commitOnRelease($0, context: context) })
        if !ran {
            failure = state.withLock({ $0.commits[id] != nil })
                ? NamespaceError(.resourceBusy, "node \(id) is being committed already")
                : NamespaceError(.resourceBusy, "every commit slot is busy (at most \(commitSlots.usage.limit) commits run "
                                 + "at once, so that one worker stays free to serve); try again")
        }
        if let failure { return refuse(unique, "commit of node \(id)", failure) }
        return .ok(unique)
    }

    func listxattr(_ unique: UInt64, _ id: UInt64, size: UInt32) -> Response {
        guard let node = state.withLock({ $0.namespace[id] }) else { return .error(unique, .noSuchFileOrDirectory) }
        var names: [String] = []
        if case .file(let content) = node.kind {
            if case .dax = content { names.append(Self.fmapAttribute) }
            names.append(Self.modeAttribute)
        }
        if id == Namespace.rootID { names.append(Self.statsAttribute) }
        return sized(unique, names.flatMap { Array($0.utf8) + [0] }, requested: size)
    }

    /// xattr replies: the size alone when asked with size 0, ERANGE when the buffer is too small.
    private func sized(_ unique: UInt64, _ value: [UInt8], requested: UInt32) -> Response {
        if requested == 0 { return .reply(unique, SizeReply(size: UInt32(value.count))) }
        guard value.count <= Int(requested) else { return .error(unique, .outOfRange) }
        return .bytes(unique, value)
    }
}

extension JSONEncoder {
    /// Compact JSON with sorted keys, so equal fmaps give equal bytes.
    static var fmapEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
