#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// A unique directory under /dev/shm, removed with everything in it when the value goes.
final class TemporaryDirectory {
    let path: FilePath

    init() throws {
        var template = Array("/dev/shm/famfs-devices-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Errno(rawValue: errno) }
        path = FilePath(String(cString: made))
    }

    deinit {
        // The directory is flat: files and links only.
        if let stream = opendir(path.string) {
            while let entry = readdir(stream) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name != "." && name != ".." { unlink(path.appending(name).string) }
            }
            closedir(stream)
        }
        rmdir(path.string)
    }

    /// A file of `size` zero bytes in the directory.
    func file(_ name: String, size: Int64) throws -> FilePath {
        let file = path.appending(name)
        let descriptor = try FileDescriptor.open(file, .writeOnly, options: [.create, .exclusiveCreate],
                                                 permissions: [.ownerReadWrite])
        defer { try? descriptor.close() }
        guard ftruncate(descriptor.rawValue, off_t(size)) == 0 else { throw Errno(rawValue: errno) }
        return file
    }
}
