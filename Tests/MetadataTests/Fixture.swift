#if canImport(Glibc)
import Glibc
#endif
import Devices
import Fmap
@testable import Metadata
import SystemPackage

/// Device files in a unique directory under /dev/shm, removed with it; and a host uuid that
/// owns the file systems made here.
final class Fixture {
    let directory: FilePath
    let host = MediaUUID.random()

    init() throws {
        var template = Array("/dev/shm/famfs-metadata-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Errno(rawValue: errno) }
        directory = FilePath(String(cString: made))
    }

    deinit {
        // The directory is flat: files and links only.
        if let stream = opendir(directory.string) {
            while let entry = readdir(stream) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name != "." && name != ".." { unlink(directory.appending(name).string) }
            }
            closedir(stream)
        }
        rmdir(directory.string)
    }

    /// A file-backed device of `size` bytes (256 MiB unless told).
    func device(_ name: String, size: Int64 = 256 << 20) throws -> FilePath {
        let path = directory.appending(name)
        let file = try FileDescriptor.open(path, .readWrite, options: [.create], permissions: [.ownerReadWrite])
        defer { try? file.close() }
        guard ftruncate(file.rawValue, off_t(size)) == 0 else { throw Errno(rawValue: errno) }
        return path
    }

    /// Formats `paths` owned by this fixture's host.
    @discardableResult
    func mkfs(_ paths: [FilePath], force: Bool = false) throws -> Mkfs.Result {
        try Mkfs.format(devices: paths, options: .init(force: force, systemUUID: host))
    }

    func open(_ paths: [FilePath], access: MappedDevice.Access = .readWrite) throws -> FamfsImage {
        try FamfsImage.open(devices: paths, access: access, host: host)
    }

    /// Flips every bit of the byte at `offset` of `path`.
    func flipByte(of path: FilePath, at offset: UInt64) throws {
        let device = try MappedDevice(path: path, access: .readWrite)
        let byte = try device.read(at: offset, count: 1)[0]
        try device.write([~byte], at: offset)
        try device.flush(at: offset, count: 1)
    }

    /// Appends `entry` the way a writer without this daemon's checks would: bytes and header
    /// only, no allocation check (to plant collisions).
    func rawAppend(_ entry: LogEntry, to path: FilePath) throws {
        let device = try MappedDevice(path: path, access: .readWrite)
        let logOffset = FamfsMedia.superblockReservation
        var header = try LogHeader(decoding: try device.read(at: logOffset, count: LogHeader.encodedSize)[...],
                                   expectedLength: FamfsMedia.defaultLogLength)
        try device.write(try entry.encoded(seqnum: header.nextIndex), at: logOffset + LogHeader.offset(ofSlot: header.nextIndex))
        header.nextIndex += 1
        header.nextSeqnum += 1
        try device.write(header.encoded(), at: logOffset)
    }

    /// Byte offset of log slot `index` on the primary device.
    static func slotOffset(_ index: UInt64) -> UInt64 {
        FamfsMedia.superblockReservation + LogHeader.offset(ofSlot: index)
    }
}

/// A file entry with simple extents on the given (device, offset MiB, length MiB) triples.
func fileEntry(_ path: String, size: UInt64, extents: [(UInt32, UInt64, UInt64)]) throws -> FileEntry {
    let list = extents.map { SimpleExtent(device: $0.0, offset: $0.1 << 20, length: $0.2 << 20) }
    return FileEntry(path: try RelativePath(path), uid: 1000, gid: 1000, mode: 0o644,
                     fmap: Fmap(fileSize: size, extents: .simple(list)))
}
