import Fmap

/// Why memory could not be handed out or recorded.
public enum AllocationError: Error, Hashable, Sendable, CustomStringConvertible {
    case unknownDevice(index: UInt32, deviceCount: Int)
    /// No free run large enough (ENOSPC).
    case noSpace(device: UInt32, requested: UInt64, free: UInt64)
    /// An fmap claims memory that another file already owns, or that leaves its device.
    case collision(SimpleExtent, owner: String)

    public var description: String {
        switch self {
        case let .unknownDevice(index, count):
            return "device index \(index) does not exist (\(count) devices)"
        case let .noSpace(device, requested, free):
            return "no contiguous free run of \(requested) bytes on device \(device) (\(free) bytes free in all)"
        case let .collision(range, owner):
            return "\(range) of \(owner) overlaps memory already allocated or leaves the device"
        }
    }
}

/// Allocation state of every device of a file system, indexed by device index.
public struct AllocationState: Sendable {
    public private(set) var devices: [DeviceSpace]

    public init(devices: [DeviceSpace]) { self.devices = devices }

    /// Allocates `bytes` (rounded up to whole units) on `device`, aligned to `alignment`.
    public mutating func allocate(device: UInt32, bytes: UInt64, alignment: UInt64) throws(AllocationError) -> SimpleExtent {
        let index = try checkedIndex(device)
        guard let offset = devices[index].allocate(bytes: bytes, alignment: alignment) else {
            throw .noSpace(device: device, requested: bytes, free: devices[index].freeBytes)
        }
        let unit = devices[index].unit
        return SimpleExtent(device: device, offset: offset, length: (bytes + unit - 1) / unit * unit)
    }

    /// Returns `extent` to the free pool (undoing a partial multi-extent allocation).
    public mutating func release(_ extent: SimpleExtent) {
        guard Int(extent.device) < devices.count else { return }
        devices[Int(extent.device)].release(offset: extent.offset, length: extent.length)
    }

    /// Gives back every range `fmap` claims (a claim that was not logged after all).
    public mutating func release(_ fmap: Fmap) {
        fmap.claimedRanges.forEach { release($0) }
    }

    /// Records every range of an existing fmap (log replay). All or nothing: on a
    /// collision nothing of this fmap stays claimed.
    public mutating func claim(_ fmap: Fmap, owner: String) throws(AllocationError) {
        var claimed: [SimpleExtent] = []
        for range in fmap.claimedRanges {
            guard Int(range.device) < devices.count,
                  devices[Int(range.device)].claim(offset: range.offset, length: range.length) else {
                claimed.forEach { release($0) }
                throw .collision(range, owner: owner)
            }
            claimed.append(range)
        }
    }

    private func checkedIndex(_ device: UInt32) throws(AllocationError) -> Int {
        guard Int(device) < devices.count else { throw .unknownDevice(index: device, deviceCount: devices.count) }
        return Int(device)
    }
}
