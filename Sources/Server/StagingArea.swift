import CSystemExtras
import Policy
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// The `--staging` directory holding passthrough files as real files.
///
/// Every path is relative to the directory and walked one component at a time with
/// `O_NOFOLLOW`, so `..`, absolute paths and symlinks cannot lead outside it. Each staged
/// file carries the mount path it backs in the `user.famfs.path` xattr, which is how the
/// namespace is rebuilt after a restart.
public final class StagingArea: Sendable {
    public let path: String
    private let root: FileDescriptor
    static let pathAttribute = "user.famfs.path"

    public struct StagingError: Error, CustomStringConvertible {
        public var errno: Errno
        public var description: String
    }

    /// Opens the directory and checks that it can hold staged files (user xattrs work there).
    public init(path: String) throws(StagingError) {
        self.path = path
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw StagingError(errno: Errno(rawValue: errno), description: "cannot open the staging directory \(path): \(Errno(rawValue: errno))")
        }
        root = FileDescriptor(rawValue: fd)
        let probe = ".famfs-xattr-probe"
        let file = openat(fd, probe, O_CREAT | O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0o600)
        defer {
            if file >= 0 { Glibc.close(file) }
            unlinkat(fd, probe, 0)
        }
        guard file >= 0, fsetxattr(file, Self.pathAttribute, "x", 1, 0) == 0 else {
            let error = Errno(rawValue: errno)
            try? root.close()
            throw StagingError(errno: error, description: "the staging directory \(path) cannot hold user xattrs (\(error)); use a tmpfs or ext4/xfs directory")
        }
    }

    deinit { try? root.close() }

    /// Checks a backing path with the policy runtime's rule and splits it into components.
    public static func validate(_ relative: String) throws(StagingError) -> [Substring] {
        if let problem = BackingPath.problem(with: relative) {
            throw StagingError(errno: .permissionDenied, description: "backing path \(relative) \(problem)")
        }
        return relative.split(separator: "/")
    }

    /// Creates a new staged file (parents made as needed) that backs mount path `mountPath`.
    public func create(_ relative: String, mountPath: String, mode: UInt32) throws(StagingError) -> FileDescriptor {
        let components = try Self.validate(relative)
        let parent = try walk(components.dropLast(), creating: true, relative)
        defer { Glibc.close(parent) }
        let fd = openat(parent, String(components.last!), O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_CLOEXEC, mode_t(mode & 0o7777))
        guard fd >= 0 else { throw failure("create", relative) }
        let file = FileDescriptor(rawValue: fd)
        do {
            try setMountPath(mountPath, of: file)
        } catch {
            try? file.close()
            unlinkat(parent, String(components.last!), 0)
            throw error
        }
        return file
    }

    /// Opens an existing staged file.
    public func open(_ relative: String, flags: Int32) throws(StagingError) -> FileDescriptor {
        let components = try Self.validate(relative)
        let parent = try walk(components.dropLast(), creating: false, relative)
        defer { Glibc.close(parent) }
        let fd = openat(parent, String(components.last!), (flags & ~(O_CREAT | O_EXCL)) | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw failure("open", relative) }
        return FileDescriptor(rawValue: fd)
    }

    /// `stat` of a staged file.
    public func status(_ relative: String) throws(StagingError) -> stat {
        let descriptor = try open(relative, flags: O_RDONLY)
        defer { try? descriptor.close() }
        var info = stat()
        guard fstat(descriptor.rawValue, &info) == 0 else { throw failure("stat", relative) }
        return info
    }

    /// Removes a staged file.
    public func remove(_ relative: String) throws(StagingError) {
        let components = try Self.validate(relative)
        let parent = try walk(components.dropLast(), creating: false, relative)
        defer { Glibc.close(parent) }
        guard unlinkat(parent, String(components.last!), 0) == 0 else { throw failure("remove", relative) }
    }

    /// Records the mount path a staged file backs (after a rename in the mount).
    public func setMountPath(_ mountPath: String, of file: FileDescriptor) throws(StagingError) {
        let bytes = Array(mountPath.utf8)
        guard fsetxattr(file.rawValue, Self.pathAttribute, bytes, bytes.count, 0) == 0 else {
            throw failure("tag", mountPath)
        }
    }

    /// Every staged file, with the mount path it backs (nil when untagged).
    public func scan() -> [(relative: String, mountPath: String?)] {
        var found: [(String, String?)] = []
        scan(directory: Glibc.dup(root.rawValue), prefix: "", into: &found)
        return found
    }

    private func scan(directory fd: Int32, prefix: String, into found: inout [(String, String?)]) {
        guard let stream = fdopendir(fd) else {
            Glibc.close(fd)
            return
        }
        defer { closedir(stream) }
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name == "." || name == ".." || name.hasPrefix(".famfs-") { continue }
            let relative = prefix.isEmpty ? name : prefix + "/" + name
            switch Int32(entry.pointee.d_type) {
            case Int32(DT_DIR):
                let child = openat(dirfd(stream), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                if child >= 0 { scan(directory: child, prefix: relative, into: &found) }
            case Int32(DT_REG):
                let file = openat(dirfd(stream), name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
                guard file >= 0 else { continue }
                defer { Glibc.close(file) }
                var buffer = [UInt8](repeating: 0, count: 4096)
                let size = fgetxattr(file, Self.pathAttribute, &buffer, buffer.count)
                found.append((relative, size > 0 ? String(decoding: buffer.prefix(size), as: UTF8.self) : nil))
            default:
                continue
            }
        }
    }

    /// Opens the directory chain of `components` below the root, refusing symlinks.
    private func walk(_ components: ArraySlice<Substring>, creating: Bool, _ relative: String) throws(StagingError) -> Int32 {
        var current = Glibc.dup(root.rawValue)
        for component in components {
            let name = String(component)
            if creating { mkdirat(current, name, 0o755) }
            let next = openat(current, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            Glibc.close(current)
            guard next >= 0 else {
                let error = Errno(rawValue: errno)
                throw StagingError(errno: error == .tooManySymbolicLinkLevels || error == .notDirectory ? .permissionDenied : error,
                                   description: "backing path \(relative): \(name) is not a directory inside \(path) (\(error))")
            }
            current = next
        }
        return current
    }

    private func failure(_ action: String, _ relative: String) -> StagingError {
        let error = Errno(rawValue: errno)
        let shown = error == .tooManySymbolicLinkLevels ? Errno.permissionDenied : error
        return StagingError(errno: shown, description: "cannot \(action) staged file \(relative) in \(path): \(error)")
    }
}
