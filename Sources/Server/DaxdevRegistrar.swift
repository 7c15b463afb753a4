import CFuse
import Devices
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Pushes every device to the kernel with famfs's DAXDEV_OPEN ioctl (the `push` profile).
struct DaxdevRegistrar {
    let channel: FuseChannel
    let devices: [MappedDevice]

    /// Registers each device under its index; the first refusal's errno (ENOTTY where the
    /// kernel has no such ioctl or the connection is not /dev/fuse), or nil when all took.
    func registerAll() -> Errno? {
        for (index, device) in devices.enumerated() {
            let file: FileDescriptor
            do {
                file = try FileDescriptor.open(device.path, .readWrite, options: .closeOnExec)
            } catch {
                return (error as? Errno) ?? .ioError
            }
            defer { try? file.close() }
            guard cfuse_ioctl_daxdev_open(channel.descriptor.rawValue, file.rawValue, UInt64(index)) == 0 else {
                return Errno(rawValue: errno)
            }
        }
        return nil
    }
}
