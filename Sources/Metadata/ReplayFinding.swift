import Fmap

/// Something log replay found besides valid entries: the log line a mount prints, and for a
/// fault, the reason the log must not be appended to.
public enum ReplayFinding: Equatable, Sendable, CustomStringConvertible {
    /// The last entry fails its checksum: an append torn by a crash. Ignored; its slot is reused.
    case tornLastEntry(index: UInt64, MediaFormatError)
    /// The slot after the last entry holds bytes: an append that never bumped the header. Ignored.
    case incompleteAppend(index: UInt64)
    /// An entry inside the log is damaged or not one famfs replays.
    case invalidEntry(index: UInt64, MediaFormatError)
    /// An ADD_DAXDEV entry whose index is not the next one or whose uuid is already known.
    case invalidDevice(index: UInt64, DeviceEntry, reason: String)
    /// A FILE entry uses a device index no ADD_DAXDEV entry defined.
    case unknownDevice(index: UInt64, path: RelativePath, device: UInt32, deviceCount: Int)
    /// A FILE entry's range runs past the end of its device.
    case extentLeavesDevice(index: UInt64, path: RelativePath, range: SimpleExtent, deviceSize: UInt64)
    /// A FILE entry's range overlaps memory another entry (or the reserved metadata) owns.
    case collision(index: UInt64, path: RelativePath, range: SimpleExtent, owner: String)
    /// A FILE entry's extents leave some of its bytes without memory (they do not cover its
    /// size, or a strip is too short for its chunks): served, it would map other memory.
    case uncoveredFile(index: UInt64, path: RelativePath, FmapValidationError)
    /// A follower saw the header's next index fall below the entries it already consumed: the
    /// log was rewritten (a new mkfs) under it. It consumes nothing more.
    case logRewound(nextIndex: UInt64, consumed: UInt64)

    /// Whether the log is inconsistent (as opposed to a crash the format expects and recovers).
    public var isFault: Bool {
        switch self {
        case .tornLastEntry, .incompleteAppend: return false
        default: return true
        }
    }

    /// The log slot the finding is about.
    public var index: UInt64 {
        switch self {
        case .tornLastEntry(let index, _), .incompleteAppend(let index), .invalidEntry(let index, _),
             .invalidDevice(let index, _, _), .unknownDevice(let index, _, _, _),
             .extentLeavesDevice(let index, _, _, _), .collision(let index, _, _, _), .uncoveredFile(let index, _, _),
             .logRewound(let index, _):
            return index
        }
    }

    public var description: String {
        switch self {
        case let .tornLastEntry(index, error):
            return "log entry \(index) is torn (\(error)); ignored as an append interrupted by a crash"
        case let .incompleteAppend(index):
            return "log slot \(index) past the log's end holds an unfinished append; ignored"
        case let .invalidEntry(_, error):
            return "\(error)"
        case let .invalidDevice(index, device, reason):
            return "log entry \(index): ADD_DAXDEV index \(device.index) uuid \(device.uuid) \(reason)"
        case let .unknownDevice(index, path, device, count):
            return "log entry \(index) '\(path)': device index \(device) is not one of the file system's \(count) devices"
        case let .extentLeavesDevice(index, path, range, size):
            return "log entry \(index) '\(path)': \(range) runs past the end of device \(range.device) (\(size) bytes)"
        case let .collision(index, path, range, owner):
            return "log entry \(index) '\(path)': \(range) overlaps \(owner); the file is not served"
        case let .uncoveredFile(index, path, error):
            return "log entry \(index) '\(path)': its fmap leaves bytes without memory (\(error)); the file is not served"
        case let .logRewound(nextIndex, consumed):
            return "the log header's next index \(nextIndex) is below the \(consumed) entries already served: the log was rewritten (mkfs?); remount"
        }
    }
}
