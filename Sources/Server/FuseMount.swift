import CFuse
import Synchronization
import SystemPackage

/// Where the FUSE connection comes from: a mount the daemon makes through libfuse's helper,
/// or (libfuse's `/dev/fd/N` convention) a connection someone else already opened.
public final class FuseMount: Sendable {
    public let mountpoint: String
    /// The session's channel; workers take their own descriptors from it.
    public let channel: FuseChannel
    /// Whether the connection was inherited rather than mounted here.
    public let isInherited: Bool
    /// libfuse's mount while it stands; nil once unmounted (or when inherited).
    private let handle: Mutex<MountHandle?>

    /// libfuse's mount handle, touched only under `handle`'s lock.
    private struct MountHandle: @unchecked Sendable {
        var pointer: OpaquePointer
    }

    public struct MountError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Mounts `mountpoint`, or adopts descriptor N when it reads `/dev/fd/N`.
    public init(mountpoint: String, options: [String]) throws(MountError) {
        self.mountpoint = mountpoint
        if let descriptor = Self.inheritedDescriptor(mountpoint) {
            channel = FuseChannel(owning: FileDescriptor(rawValue: descriptor))
            isInherited = true
            handle = Mutex(nil)
            return
        }
        var fd: Int32 = -1
        var message = [CChar](repeating: 0, count: 512)
        let mounted = cfuse_mount_open(mountpoint, options.joined(separator: ","), &fd, &message, message.count)
        guard let mounted else {
            throw MountError(description: String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        isInherited = false
        handle = Mutex(MountHandle(pointer: mounted))
        // libfuse closes its descriptor on unmount; the channel works on a duplicate of its own.
        guard let own = try? FileDescriptor(rawValue: fd).duplicate() else {
            cfuse_mount_close(mounted)
            throw MountError(description: "could not duplicate the FUSE descriptor")
        }
        channel = FuseChannel(owning: own)
    }

    /// Unmounts (when this process mounted, and only once); workers then see the connection close.
    public func unmount() {
        guard let mounted = handle.withLock({ $0.take() }) else { return }
        cfuse_mount_close(mounted.pointer)
    }

    deinit { unmount() }

    static func inheritedDescriptor(_ mountpoint: String) -> Int32? {
        guard mountpoint.hasPrefix("/dev/fd/"), let n = Int32(mountpoint.dropFirst("/dev/fd/".count)), n >= 0 else { return nil }
        return n
    }
}
