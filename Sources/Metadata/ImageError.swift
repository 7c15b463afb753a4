import Allocation
import Devices
import SystemPackage

/// Why a file system could not be opened or its log appended to. Every case names the device,
/// index or entry involved, and says what to do when there is something to do.
public enum ImageError: Error, Equatable, Sendable, CustomStringConvertible {
    case noDevices
    case device(DeviceError)
    case superblock(FilePath, MediaFormatError)
    case logHeader(FilePath, MediaFormatError)
    /// The first path carries a secondary device's superblock.
    case notPrimary(FilePath)
    /// The log names device `index`, but no path was given for it.
    case missingDevice(index: UInt32, uuid: MediaUUID)
    /// More paths than the file system has devices.
    case unexpectedDevice(FilePath, deviceCount: Int)
    /// The path given for `index` carries another device's uuid (devices swapped or replaced).
    case wrongDevice(FilePath, index: UInt32, expected: MediaUUID, found: MediaUUID, foundIndex: UInt32?)
    /// The path given for `index` belongs to another file system.
    case foreignDevice(FilePath, index: UInt32, expected: MediaUUID, found: MediaUUID)
    /// The device is smaller than the size its ADD_DAXDEV entry records.
    case deviceTruncated(FilePath, index: UInt32, recorded: UInt64, actual: UInt64)
    /// Only the host the superblock names may append to the log.
    case notLogOwner(host: MediaUUID?, owner: MediaUUID)
    /// The image was opened read-only.
    case readOnly
    /// Replay found a fault; appending could reuse memory a damaged entry owns.
    case logDamaged(ReplayFinding)
    case logFull(slots: UInt64)
    /// The entry cannot be expressed in famfs's format.
    case entry(MediaFormatError)
    case allocation(AllocationError)
    /// This writer's lease no longer names it (taken over, or never held).
    case lease(LeaseError)

    public var errno: Errno {
        switch self {
        case .noDevices, .notPrimary, .unexpectedDevice: return .invalidArgument
        case .device(let error): return error.errno
        case .superblock(_, let error), .logHeader(_, let error), .entry(let error): return error.errno
        case .missingDevice, .wrongDevice, .foreignDevice: return .operationNotSupportedByDevice
        case .deviceTruncated: return .ioError
        case .notLogOwner: return .notPermitted
        case .readOnly, .logDamaged, .lease: return .readOnlyFileSystem
        case .logFull: return .noSpace
        case .allocation(let error):
            if case .noSpace = error { return .noSpace }
            return .invalidArgument
        }
    }

    public var description: String {
        switch self {
        case .noDevices:
            return "no device given: name the primary device (the one mkfs listed first), then the others in order"
        case .device(let error):
            return "\(error)"
        case let .superblock(path, error):
            return "\(path): bad \(error); this is not a usable famfs device (run famfs-policy check, or mkfs to start over)"
        case let .logHeader(path, error):
            return "\(path): bad \(error)"
        case let .notPrimary(path):
            return "\(path) is a secondary device; give the primary device (the first one mkfs was given) first"
        case let .missingDevice(index, uuid):
            return "device \(index) (uuid \(uuid)) was not given; pass all devices in the order mkfs was given them"
        case let .unexpectedDevice(path, count):
            return "\(path) is one device too many: the file system has \(count)"
        case let .wrongDevice(path, index, expected, found, foundIndex):
            let actual = foundIndex.map { "device \($0)" } ?? "no device of this file system"
            return "\(path) was given as device \(index) (uuid \(expected)) but carries uuid \(found), which is \(actual); pass the devices in the order mkfs was given them"
        case let .foreignDevice(path, index, expected, found):
            return "\(path), given as device \(index), belongs to file system \(found), not \(expected)"
        case let .deviceTruncated(path, index, recorded, actual):
            return "\(path) (device \(index)) has \(actual) bytes but the log records \(recorded): truncated or the wrong device"
        case let .notLogOwner(host, owner):
            return "this host (\(host.map(\.description) ?? "unknown")) is not the log's owner \(owner); mount read-only (famfs-policyd --follower), or make this host the owner with famfs-policy takeover DEV0"
        case .readOnly:
            return "the file system is open read-only"
        case .logDamaged(let finding):
            return "the log is damaged, so it is not appended to: \(finding); run famfs-policy check"
        case let .logFull(slots):
            return "the log is full (\(slots) entries); make a new file system with a larger --log-length"
        case .entry(let error):
            return "\(error)"
        case .allocation(let error):
            return "\(error)"
        case .lease(let error):
            return "not appending to the log: \(error)"
        }
    }
}
