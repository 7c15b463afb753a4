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

    /// How a push went.
    enum Outcome: Equatable {
        /// Every device took.
        case registered
        /// The connection is not /dev/fuse (a test kernel's socket): no ioctl can reach a
        /// kernel, so there is nothing to register with.
        case notAFuseDevice
        /// The kernel refused a device: ENOTTY where it has no such ioctl.
        case refused(Errno)
    }

    /// Registers each device under its index, stopping at the first refusal.
    func registerAll() -> Outcome {
        guard channel.isFuseDevice else { return .notAFuseDevice }
        for (index, device) in devices.enumerated() {
            let file: FileDescriptor
            do {
                file = try FileDescriptor.open(device.path, .readWrite, options: .closeOnExec)
            } catch {
                return .refused((error as? Errno) ?? .ioError)
            }
            defer { try? file.close() }
            guard cfuse_ioctl_daxdev_open(channel.descriptor.rawValue, file.rawValue, UInt64(index)) == 0 else {
                return .refused(Errno(rawValue: errno))
            }
        }
        return .registered
    }
}
