import Devices
import SystemPackage

/// Formats devices with famfs's on-media format: a superblock and an empty log on the
/// primary (the first device); a secondary superblock and an ADD_DAXDEV entry for each other.
public enum Mkfs {
    public struct Options: Sendable {
        /// Log bytes, a power of two of at least 8 MiB.
        public var logLength: UInt64 = FamfsMedia.defaultLogLength
        /// Overwrite devices that already hold a famfs superblock.
        public var force = false
        /// The host allowed to append to the log.
        public var systemUUID: MediaUUID

        public init(logLength: UInt64 = FamfsMedia.defaultLogLength, force: Bool = false, systemUUID: MediaUUID) {
            self.logLength = logLength
            self.force = force
            self.systemUUID = systemUUID
        }
    }

    /// What was written.
    public struct Result: Sendable {
        public var fileSystemUUID: MediaUUID
        /// Device uuids by index.
        public var deviceUUIDs: [MediaUUID]
        public var logSlots: UInt64
    }

    /// Checks every device, then writes: old superblocks wiped first, the primary's superblock
    /// last, so a failure midway never leaves a half-made file system that opens.
    public static func format(devices paths: [FilePath], options: Options) throws(MkfsError) -> Result {
        guard !paths.isEmpty else { throw .noDevices }
        guard FamfsMedia.isValidLogLength(options.logLength) else { throw .invalidLogLength(options.logLength) }
        var identities: [(FilePath, DeviceID, Inode)] = []
        for path in paths {
            let status: Stat
            do { status = try path.stat() } catch { throw .device(.cannotStat(path, error)) }
            if let twin = identities.first(where: { $0.1 == status.deviceID && $0.2 == status.inode }) {
                throw .duplicateDevice(path, sameAs: twin.0)
            }
            identities.append((path, status.deviceID, status.inode))
        }
        var devices: [MappedDevice] = []
        for (index, path) in paths.enumerated() {
            let device: MappedDevice
            do { device = try MappedDevice(path: path, access: .readWrite) } catch { throw .device(error) }
            try checkSize(device, primary: index == 0, logLength: options.logLength)
            if !options.force, let magic = try? device.read(at: 0, count: 8), magic == existingMagic {
                throw .existingFileSystem(path)
            }
            devices.append(device)
        }
        do {
            return try write(devices, options: options)
        } catch {
            throw .device(error)
        }
    }

    /// The bytes a device with a famfs superblock starts with.
    private static let existingMagic: [UInt8] = withUnsafeBytes(of: FamfsMedia.superblockMagic.littleEndian) { Array($0) }

    private static func checkSize(_ device: MappedDevice, primary: Bool, logLength: UInt64) throws(MkfsError) {
        let metadata = FamfsMedia.reservedBytes(primary: primary, logLength: logLength)
        var minimum = metadata + FamfsMedia.allocationUnit
        var reason = primary ? "the superblock, a \(logLength)-byte log and one 2 MiB allocation unit"
                             : "its superblock and one 2 MiB allocation unit"
        if device.kind == .devdax, minimum < FamfsMedia.minimumDevdaxSize {
            minimum = FamfsMedia.minimumDevdaxSize
            reason = "famfs's 4 GiB minimum for devdax devices"
        }
        guard device.size >= minimum else {
            throw .tooSmall(device.path, size: device.size, minimum: minimum, reason: reason)
        }
    }

    private static func write(_ devices: [MappedDevice], options: Options) throws(DeviceError) -> Result {
        let reservation = Int(FamfsMedia.superblockReservation)
        for device in devices {
            try device.zero(at: 0, count: reservation)
            try device.flush(at: 0, count: reservation)
        }
        let fileSystemUUID = MediaUUID.random()
        let uuids = devices.map { _ in MediaUUID.random() }
        func superblock(_ index: Int) -> Superblock {
            let device = devices[index]
            let name = device.path.lastComponent?.string ?? ""
            let primary = index == 0
            return Superblock(logOffset: primary ? FamfsMedia.superblockReservation : 0,
                              logLength: primary ? options.logLength : 0,
                              fileSystemUUID: fileSystemUUID, systemUUID: options.systemUUID,
                              role: primary ? .primary : .secondary,
                              device: .init(size: device.size, uuid: uuids[index], name: name))
        }
        let primary = devices[0]
        let logOffset = FamfsMedia.superblockReservation
        try primary.zero(at: logOffset, count: Int(options.logLength))
        var header = LogHeader(length: options.logLength)
        for index in devices.indices.dropFirst() {
            let entry = LogEntry.addDevice(DeviceEntry(index: UInt32(index), size: devices[index].size, uuid: uuids[index]))
            let slot = header.nextIndex
            // An ADD_DAXDEV entry has no path or fmap, so it always encodes.
            let bytes = (try? entry.encoded(seqnum: slot)) ?? []
            try primary.write(bytes, at: logOffset + LogHeader.offset(ofSlot: slot))
            header.nextIndex += 1
            header.nextSeqnum += 1
        }
        try primary.write(header.encoded(), at: logOffset)
        try primary.flush(at: logOffset, count: Int(options.logLength))
        for index in devices.indices.dropFirst() {
            try devices[index].write(superblock(index).encoded(), at: 0)
            try devices[index].flush(at: 0, count: Superblock.encodedSize)
        }
        try primary.write(superblock(0).encoded(), at: 0)
        try primary.flush(at: 0, count: Superblock.encodedSize)
        return Result(fileSystemUUID: fileSystemUUID, deviceUUIDs: uuids, logSlots: header.slotCount)
    }
}

/// Why mkfs refused or failed; each says what to do instead.
public enum MkfsError: Error, Equatable, Sendable, CustomStringConvertible {
    case noDevices
    case invalidLogLength(UInt64)
    case duplicateDevice(FilePath, sameAs: FilePath)
    case tooSmall(FilePath, size: UInt64, minimum: UInt64, reason: String)
    case existingFileSystem(FilePath)
    case device(DeviceError)

    public var errno: Errno {
        switch self {
        case .noDevices, .invalidLogLength, .duplicateDevice: return .invalidArgument
        case .tooSmall: return .noSpace
        case .existingFileSystem: return .fileExists
        case .device(let error): return error.errno
        }
    }

    public var description: String {
        switch self {
        case .noDevices:
            return "no device given: name the primary device, then any others"
        case .invalidLogLength(let length):
            return "log length \(length) is not a power of two of at least 8M; try --log-length 8M"
        case let .duplicateDevice(path, twin):
            return "\(path) is the same device as \(twin); give each device once"
        case let .tooSmall(path, size, minimum, reason):
            return "\(path) has \(size) bytes, less than the \(minimum) needed for \(reason)"
        case .existingFileSystem(let path):
            return "\(path) already holds a famfs file system; pass --force to overwrite it"
        case .device(let error):
            return "\(error)"
        }
    }
}
