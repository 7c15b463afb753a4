import Fmap
import SystemPackage

/// What a regular file's bytes are.
public enum FileContent: Sendable {
    /// Created, size never set: no memory yet.
    case unallocated
    /// Device memory described by an fmap (famfs's only kind of file).
    case dax(Fmap, FmapResolver)
    /// A regular file in the staging directory (path relative to it), read and written
    /// freely until it is committed to DAX.
    case passthrough(backing: String)
}

/// One inode of the mounted tree.
public struct Node: Sendable {
    public enum Kind: Sendable {
        case directory(children: DirectoryChildren)
        case file(FileContent)
    }

    public let id: UInt64
    public var name: String
    public var parent: UInt64
    public var kind: Kind
    /// Permission bits and file type, as `st_mode`.
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    /// Seconds since the epoch; famfs's log keeps no times, so they live for the mount only.
    public var modified: UInt64
    public var readOnly: Bool
    /// Directories directly inside this one (a directory's link count is 2 plus this); kept
    /// by `Namespace` as it adds, removes and moves nodes, so attributes need no scan.
    public internal(set) var subdirectoryCount = 0

    public var isDirectory: Bool {
        if case .directory = kind { return true }
        return false
    }

    public var fmap: Fmap? {
        if case .file(.dax(let fmap, _)) = kind { return fmap }
        return nil
    }

    /// Whether the node can be renamed or replaced: nothing of it is in the famfs log.
    public var isMovable: Bool {
        switch kind {
        case .file(.unallocated), .file(.passthrough): return true
        default: return false
        }
    }

    /// The staged file behind a passthrough file.
    public var backing: String? {
        if case .file(.passthrough(let backing)) = kind { return backing }
        return nil
    }

    public var size: UInt64 { fmap?.fileSize ?? 0 }
}

/// Why a namespace change was refused, with the errno the kernel is told.
public struct NamespaceError: Error, CustomStringConvertible {
    public var errno: Errno
    public var description: String

    public init(_ errno: Errno, _ description: String) {
        self.errno = errno
        self.description = description
    }
}

/// The tree of directories and files, by inode number. Not thread-safe: the file system
/// guards it with a lock.
public struct Namespace: Sendable {
    public static let rootID: UInt64 = 1
    public private(set) var nodes: [UInt64: Node] = [:]
    private var nextID: UInt64 = 2

    public init(rootMode: UInt32 = 0o40755, now: UInt64) {
        nodes[Self.rootID] = Node(id: Self.rootID, name: "", parent: Self.rootID, kind: .directory(children: [:]),
                                  mode: rootMode, uid: 0, gid: 0, modified: now, readOnly: false)
    }

    public subscript(id: UInt64) -> Node? { nodes[id] }

    public func child(of parent: UInt64, named name: String) -> Node? {
        guard case .directory(let children)? = nodes[parent]?.kind, let id = children[name] else { return nil }
        return nodes[id]
    }

    /// Up to `limit` children of `directory` listed after `cookie` (0: from the first), in
    /// listing order (see `DirectoryChildren`).
    public func children(of directory: UInt64, after cookie: UInt64, limit: Int) -> [DirectoryChild] {
        guard case .directory(let children)? = nodes[directory]?.kind else { return [] }
        return Array(children.listed(after: cookie).prefix(limit))
    }

    /// Directories directly inside `directory` (for its link count).
    public func subdirectoryCount(of directory: UInt64) -> Int {
        nodes[directory]?.subdirectoryCount ?? 0
    }

    /// The path relative to the mount root without a leading `/`, as famfs's log records it.
    public func relativePath(of id: UInt64) -> String {
        var parts: [String] = []
        var current = id
        while current != Self.rootID, let node = nodes[current] {
            parts.append(node.name)
            current = node.parent
        }
        return parts.reversed().joined(separator: "/")
    }

    /// Adds a directory or file under `parent`.
    @discardableResult
    public mutating func add(name: String, parent: UInt64, kind: Node.Kind, mode: UInt32, uid: UInt32, gid: UInt32,
                             now: UInt64, readOnly: Bool = false) throws(NamespaceError) -> Node {
        guard nodes[parent]?.isDirectory == true else {
            throw NamespaceError(.notDirectory, "parent \(parent) is not a directory")
        }
        guard child(of: parent, named: name) == nil else { throw NamespaceError(.fileExists, "\(name) already exists") }
        let node = Node(id: nextID, name: name, parent: parent, kind: kind, mode: mode, uid: uid, gid: gid,
                        modified: now, readOnly: readOnly)
        nextID += 1
        nodes[node.id] = node
        nodes[parent]?.attachChild(node.id, named: name, isDirectory: node.isDirectory)
        nodes[parent]?.modified = now
        if node.isDirectory { nodes[parent]?.subdirectoryCount += 1 }
        return node
    }

    /// Finds or creates the directory at a relative path (log replay of an entry whose parents
    /// were never logged by name), returning its id.
    public mutating func directory(atRelativePath path: String, now: UInt64) throws(NamespaceError) -> UInt64 {
        var current = Self.rootID
        for component in path.split(separator: "/") where !component.isEmpty {
            if let existing = child(of: current, named: String(component)) {
                guard existing.isDirectory else { throw NamespaceError(.notDirectory, "\(path): \(component) is a file") }
                current = existing.id
            } else {
                current = try add(name: String(component), parent: current, kind: .directory(children: [:]),
                                  mode: 0o40755, uid: 0, gid: 0, now: now).id
            }
        }
        return current
    }

    public mutating func setContent(_ content: FileContent, of id: UInt64, now: UInt64) {
        nodes[id]?.kind = .file(content)
        nodes[id]?.modified = now
    }

    public mutating func update(_ id: UInt64, _ change: (inout Node) -> Void) {
        guard var node = nodes[id] else { return }
        change(&node)
        nodes[id] = node
    }

    public var fileCount: Int { nodes.values.count { !$0.isDirectory } }
}

extension Namespace {
    /// Removes a node (a file never logged) from its directory.
    public mutating func remove(_ id: UInt64) {
        guard let node = nodes[id] else { return }
        nodes[node.parent]?.detachChild(named: node.name)
        if node.isDirectory { nodes[node.parent]?.subdirectoryCount -= 1 }
        nodes[id] = nil
    }

    /// Moves a node under `parent` as `name`; the caller has cleared the target name.
    public mutating func move(_ id: UInt64, to parent: UInt64, name: String, now: UInt64) throws(NamespaceError) {
        guard let node = nodes[id], nodes[parent]?.isDirectory == true else {
            throw NamespaceError(.noSuchFileOrDirectory, "rename target directory \(parent) does not exist")
        }
        nodes[node.parent]?.detachChild(named: node.name)
        nodes[parent]?.attachChild(id, named: name, isDirectory: node.isDirectory)
        if node.isDirectory {
            nodes[node.parent]?.subdirectoryCount -= 1
            nodes[parent]?.subdirectoryCount += 1
        }
        nodes[parent]?.modified = now
        nodes[id]?.name = name
        nodes[id]?.parent = parent
        nodes[id]?.modified = now
    }
}

extension Node {
    mutating func attachChild(_ id: UInt64, named name: String, isDirectory: Bool) {
        editChildren { $0.insert(id, named: name, isDirectory: isDirectory) }
    }

    mutating func detachChild(named name: String) {
        editChildren { $0.remove(named: name) }
    }

    /// Edits a directory's children in place: the enum's copy is released first, so the
    /// dictionary is not duplicated on every change.
    private mutating func editChildren(_ edit: (inout DirectoryChildren) -> Void) {
        guard case .directory(var children) = kind else { return }
        kind = .directory(children: DirectoryChildren())
        edit(&children)
        kind = .directory(children: children)
    }
}
