#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// This host's identity, which a superblock records at mkfs as the one host allowed to
/// append to the log (famfs's "system uuid").
///
/// It is kept where famfs's own tools keep it, `/opt/famfs/system_uuid` (the uuid as text),
/// so that famfs and this package agree on which host owns a log. Where that file does not
/// exist yet it is written, holding systemd's `/etc/machine-id` (128 random bits fixed at
/// install), or the uuid earlier versions of this package kept in `legacyPath`, or a new one.
public enum SystemUUID {
    public static let famfsPath: FilePath = "/opt/famfs/system_uuid"
    public static let machineIDPath: FilePath = "/etc/machine-id"
    public static let legacyPath: FilePath = "/var/lib/famfs-policy/system-uuid"

    /// The host's uuid, read from `famfs`, or chosen and written there.
    public static func current(famfs: FilePath = famfsPath, machineID: FilePath = machineIDPath,
                               legacy: FilePath = legacyPath) throws(Errno) -> MediaUUID {
        if let uuid = read(famfs) { return uuid }
        let uuid = read(machineID) ?? read(legacy) ?? MediaUUID.random()
        var folder = FilePath(root: famfs.root)
        for component in famfs.removingLastComponent().components {
            folder.append(component)
            _ = mkdir(folder.string, 0o755)
        }
        // Written aside and renamed into place, so a concurrent reader sees all of it or none.
        let staged = FilePath(famfs.string + ".\(getpid())")
        do {
            let file = try FileDescriptor.open(staged, .writeOnly, options: [.create, .truncate],
                                               permissions: [.ownerReadWrite, .groupRead, .otherRead])
            defer { try? file.close() }
            _ = try file.writeAll(Array("\(uuid)\n".utf8))
        } catch {
            throw error as? Errno ?? .ioError
        }
        guard rename(staged.string, famfs.string) == 0 else { throw Errno(rawValue: errno) }
        return uuid
    }

    private static func read(_ path: FilePath) -> MediaUUID? {
        guard let file = try? FileDescriptor.open(path, .readOnly) else { return nil }
        defer { try? file.close() }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = (try? buffer.withUnsafeMutableBytes { try file.read(into: $0) }) ?? 0
        let text = String(decoding: buffer.prefix(count), as: UTF8.self)
        return MediaUUID(string: text.split(whereSeparator: \.isWhitespace).first ?? "")
    }
}
