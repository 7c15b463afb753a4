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
        _ = nftw(path.string, { name, _, _, _ in remove(name!) }, 16, FTW_DEPTH | FTW_PHYS)
    }

    /// A file of `size` zero bytes in the directory.
    func file(_ name: String, size: Int64) throws -> FilePath {
        let file = path.appending(name)
        let descriptor = try FileDescriptor.open(file, .writeOnly, options: [.create, .exclusiveCreate],
                                                 permissions: [.ownerReadWrite])
        defer { try? descriptor.close() }
        guard ftruncate(descriptor.rawValue, size) == 0 else { throw Errno(rawValue: errno) }
        return file
    }
}
