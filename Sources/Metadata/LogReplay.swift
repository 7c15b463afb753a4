import Allocation
import Fmap

/// The state a log describes: its valid entries in order, the devices, which memory is
/// allocated, and everything wrong found on the way.
///
/// A FILE entry that collides, leaves its device, names an unknown device or leaves some of
/// its bytes without memory is reported and left out of `entries` (never served), and none
/// of its memory is claimed.
public struct LogReplay: Sendable {
    /// Valid entries in log order.
    public var entries: [IndexedEntry] = []
    public var findings: [ReplayFinding] = []
    /// Every device by index: 0 from the superblock, the rest from ADD_DAXDEV entries.
    public var devices: [DeviceEntry]
    /// Allocation units taken by the reserved metadata and by every valid FILE entry.
    public var allocation: AllocationState
    /// The slot the next append writes (a torn last entry's slot is reused).
    public var appendIndex: UInt64
    /// Who owns every claimed range, so later entries are checked against earlier ones.
    var owners = DeviceRangeMap()

    /// The first fault, if the log is inconsistent.
    public var firstFault: ReplayFinding? { findings.first(where: \.isFault) }

    /// Replays entries `[0, header.nextIndex)`; `slot(i)` returns the bytes of slot `i`.
    public init(superblock: Superblock, header: LogHeader, slot: (UInt64) -> ArraySlice<UInt8>) {
        appendIndex = header.nextIndex
        var decoded: [IndexedEntry] = []
        for index in 0..<header.nextIndex {
            do {
                decoded.append(IndexedEntry(index: index, entry: try LogEntry(decoding: slot(index), index: index)))
            } catch {
                if index == header.nextIndex - 1, case .checksumMismatch = error {
                    findings.append(.tornLastEntry(index: index, error))
                    appendIndex = index
                } else {
                    findings.append(.invalidEntry(index: index, error))
                }
            }
        }
        if header.nextIndex < header.slotCount, slot(header.nextIndex).contains(where: { $0 != 0 }) {
            findings.append(.incompleteAppend(index: header.nextIndex))
        }

        devices = [DeviceEntry(index: 0, size: superblock.device.size, uuid: superblock.deviceUUID)]
        var validDeviceEntries: Set<UInt64> = []
        for case let (index, .addDevice(device)) in decoded.map({ ($0.index, $0.entry) }) {
            if let reason = Self.problem(with: device, known: devices, unit: superblock.allocationUnit) {
                findings.append(.invalidDevice(index: index, device, reason: reason))
            } else {
                devices.append(device)
                validDeviceEntries.insert(index)
            }
        }

        let unit = superblock.allocationUnit
        allocation = AllocationState(devices: devices.map {
            DeviceSpace(size: $0.size, unit: unit,
                        reservedBytes: $0.index == 0 ? superblock.reservedBytes : FamfsMedia.superblockReservation)
        })
        owners.insert(SimpleExtent(device: 0, offset: 0, length: superblock.reservedBytes), owner: "the superblock and log")
        for device in devices.dropFirst() {
            owners.insert(SimpleExtent(device: device.index, offset: 0, length: FamfsMedia.superblockReservation),
                          owner: "device \(device.index)'s superblock")
        }

        for item in decoded {
            if case .addDevice = item.entry {
                if validDeviceEntries.contains(item.index) { entries.append(item) }
            } else if let finding = admit(item) {
                findings.append(finding)
            }
        }
    }

    /// Adds a decoded MKDIR or FILE entry to `entries` once its memory is claimed, or returns
    /// why it is not served. Devices are known before any entry is admitted, so an ADD_DAXDEV
    /// entry seen here came too late to be used.
    mutating func admit(_ item: IndexedEntry) -> ReplayFinding? {
        switch item.entry {
        case .mkdir:
            break
        case .addDevice(let device):
            return .invalidDevice(index: item.index, device,
                                  reason: "was added after this host opened the file system; remount to use it")
        case .file(let file):
            if let finding = claim(file, index: item.index) { return finding }
        }
        entries.append(item)
        return nil
    }

    /// Claims a FILE entry's memory, or returns why it cannot be.
    private mutating func claim(_ file: FileEntry, index: UInt64) -> ReplayFinding? {
        let owner = "log entry \(index) '\(file.path)'"
        do { try file.fmap.validateCoverage() } catch { return .uncoveredFile(index: index, path: file.path, error) }
        for range in file.fmap.claimedRanges {
            guard Int(range.device) < devices.count else {
                return .unknownDevice(index: index, path: file.path, device: range.device, deviceCount: devices.count)
            }
            let size = devices[Int(range.device)].size
            guard range.length > 0, range.offset <= size, range.length <= size - range.offset else {
                return .extentLeavesDevice(index: index, path: file.path, range: range, deviceSize: size)
            }
            if let clash = owners.firstOverlap(with: range) {
                return .collision(index: index, path: file.path, range: range, owner: "\(clash.range) of \(clash.owner)")
            }
        }
        do {
            try allocation.claim(file.fmap, owner: owner)
        } catch {
            let range: SimpleExtent
            if case .collision(let culprit, _) = error { range = culprit } else { range = file.fmap.claimedRanges[0] }
            return .collision(index: index, path: file.path, range: range, owner: "an allocation unit already taken")
        }
        file.fmap.claimedRanges.forEach { owners.insert($0, owner: owner) }
        return nil
    }

    /// Allocation units one device may have: a size beyond it is damage, not memory, and its
    /// bitmap would exhaust ours (2^28 units: 512 TiB of 2 MiB units, 1 TiB of 4 KiB ones).
    static let maximumUnitsPerDevice: UInt64 = 1 << 28

    private static func problem(with device: DeviceEntry, known: [DeviceEntry], unit: UInt64) -> String? {
        if Int(device.index) != known.count { return "is not the next index \(known.count)" }
        if device.uuid == .zero { return "has no uuid" }
        if let twin = known.first(where: { $0.uuid == device.uuid }) { return "repeats the uuid of device \(twin.index)" }
        if device.size <= FamfsMedia.superblockReservation { return "is too small (\(device.size) bytes)" }
        if device.size / unit > maximumUnitsPerDevice {
            return "is too large (\(device.size) bytes, more than \(maximumUnitsPerDevice) allocation units)"
        }
        return nil
    }
}
