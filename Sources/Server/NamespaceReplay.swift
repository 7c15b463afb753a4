import Fmap
import Metadata

extension Namespace {
    /// The name of the read-only directory holding famfs's metadata files.
    public static let metaDirectory = ".meta"

    /// The tree a replayed log describes, with famfs's `.meta/.superblock` and `.meta/.log`
    /// as read-only files over the primary device's metadata. Entries that cannot be placed
    /// (a file where a directory should be, a name used twice) are skipped and reported.
    public static func replaying(_ image: FamfsImage, now: UInt64) -> (namespace: Namespace, problems: [String]) {
        var namespace = Namespace(now: now)
        var problems: [String] = []
        namespace.addMetaFiles(superblock: image.superblock, now: now)
        for indexed in image.entries {
            do throws(NamespaceError) {
                try namespace.apply(indexed, now: now)
            } catch {
                problems.append("log entry \(indexed.index) cannot be placed in the tree: \(error)")
            }
        }
        return (namespace, problems)
    }

    /// Places one log entry in the tree: a directory (its parents made as needed, its owner
    /// and mode as logged) or a DAX file. Replay at mount and a follower's later entries both
    /// come through here.
    mutating func apply(_ indexed: IndexedEntry, now: UInt64) throws(NamespaceError) {
        switch indexed.entry {
        case .mkdir(let directory):
            let id = try self.directory(atRelativePath: directory.path.string, now: now)
            update(id) { node in
                node.mode = FileSystem.directoryType | (directory.mode & 0o7777)
                node.uid = directory.uid
                node.gid = directory.gid
            }
        case .file(let file):
            var components = file.path.components
            let name = String(components.removeLast())
            let parent = try self.directory(atRelativePath: components.joined(separator: "/"), now: now)
            try add(name: name, parent: parent, kind: .file(.dax(file.fmap, FmapResolver(file.fmap))),
                    mode: FileSystem.regularType | (file.mode & 0o7777), uid: file.uid, gid: file.gid, now: now)
        case .addDevice:
            break
        }
    }

    private mutating func addMetaFiles(superblock: Superblock, now: UInt64) {
        let meta = try? add(name: Self.metaDirectory, parent: Self.rootID, kind: .directory(children: [:]),
                            mode: FileSystem.directoryType | 0o555, uid: 0, gid: 0, now: now, readOnly: true)
        guard let meta else { return }
        let files: [(String, Fmap)] = [
            (".superblock", Fmap(fileType: .superblock, fileSize: FmapLimits.mib2,
                                 extents: .simple([SimpleExtent(device: 0, offset: 0, length: FmapLimits.mib2)]))),
            (".log", Fmap(fileType: .log, fileSize: superblock.logLength,
                          extents: .simple([SimpleExtent(device: 0, offset: superblock.logOffset, length: superblock.logLength)]))),
        ]
        for (name, fmap) in files {
            _ = try? add(name: name, parent: meta.id, kind: .file(.dax(fmap, FmapResolver(fmap))),
                         mode: FileSystem.regularType | 0o444, uid: 0, gid: 0, now: now, readOnly: true)
        }
    }
}
