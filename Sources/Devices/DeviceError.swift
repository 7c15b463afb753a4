import SystemPackage

/// Why a backing device could not be opened, mapped, read or written. Every case names the device.
public enum DeviceError: Error, Hashable, Sendable, CustomStringConvertible {
    case cannotOpen(FilePath, Errno)
    case cannotStat(FilePath, Errno)
    /// Neither a regular file nor a character device.
    case unsupportedType(FilePath)
    /// A character device that libdaxctl does not list as devdax.
    case notDevdax(FilePath)
    /// A file-backed device of zero bytes: it has no capacity.
    case empty(FilePath)
    case mapFailed(FilePath, Errno)
    /// An access outside `[0, size)`.
    case outOfBounds(FilePath, offset: UInt64, count: Int, size: UInt64)
    /// A write to a device mapped read-only.
    case readOnly(FilePath)
    case flushFailed(FilePath, Errno)

    /// The errno a FUSE reply or exit status carries for this failure.
    public var errno: Errno {
        switch self {
        case .cannotOpen(_, let errno), .cannotStat(_, let errno), .mapFailed(_, let errno),
             .flushFailed(_, let errno):
            return errno
        case .unsupportedType, .notDevdax: return .operationNotSupportedByDevice
        case .empty: return .noSpace
        case .outOfBounds: return .invalidArgument
        case .readOnly: return .readOnlyFileSystem
        }
    }

    public var description: String {
        switch self {
        case let .cannotOpen(path, errno):
            return "cannot open device \(path): \(errno)"
        case let .cannotStat(path, errno):
            return "cannot stat device \(path): \(errno)"
        case let .unsupportedType(path):
            return "\(path) is neither a regular file nor a devdax character device"
        case let .notDevdax(path):
            return "\(path) is a character device that libdaxctl does not list as devdax (is it in system-ram mode?)"
        case let .empty(path):
            return "\(path) is empty: size a file-backed device first (e.g. truncate -s 256M \(path))"
        case let .mapFailed(path, errno):
            return "cannot map device \(path): \(errno)"
        case let .outOfBounds(path, offset, count, size):
            return "access of \(count) bytes at offset \(offset) leaves device \(path) (\(size) bytes)"
        case let .readOnly(path):
            return "device \(path) is mapped read-only"
        case let .flushFailed(path, errno):
            return "cannot flush device \(path): \(errno)"
        }
    }
}
