#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// This host's identity, which a superblock records at mkfs as the one host allowed to
/// append to the log (famfs's "system uuid").
///
/// We use systemd's `/etc/machine-id` (128 random bits fixed at install) so no extra state is
/// needed; on a host without one, a uuid is generated once and kept in `fallbackPath`.
public enum SystemUUID {
    public static let machineIDPath: FilePath = "/etc/machine-id"
    public static let fallbackPath: FilePath = "/var/lib/famfs-policy/system-uuid"

    /// The host's uuid: the machine id, else the kept fallback, else a new one written there.
    public static func current(machineID: FilePath = machineIDPath,
                               fallback: FilePath = fallbackPath) throws(Errno) -> MediaUUID {
        if let uuid = read(machineID) { return uuid }
        if let uuid = read(fallback) { return uuid }
        let uuid = MediaUUID.random()
        _ = mkdir(fallback.removingLastComponent().string, 0o755)
        do {
            let file = try FileDescriptor.open(fallback, .writeOnly, options: [.create, .truncate],
                                               permissions: [.ownerReadWrite, .groupRead, .otherRead])
            defer { try? file.close() }
            _ = try file.writeAll(Array("\(uuid)\n".utf8))
        } catch {
            throw error as? Errno ?? .ioError
        }
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
