import WireBytes

/// famfs's superblock: the first 200 bytes of a device, in a reserved 2 MiB region.
///
/// The crc covers bytes `[0, 96)` (magic to system uuid); `flags` and the device record after
/// it are not covered, so `validate(deviceSize:)` checks them against the device.
///
/// Multi-device file systems: famfs names extra devices only by uuid in ADD_DAXDEV log
/// entries, and leaves it to each host to know which path is which uuid. To make that
/// checkable here, mkfs also writes a *secondary* superblock on every extra device (flags 2,
/// the file system's uuid, the device's own uuid in `deviceUUID` and `device`, no log), and
/// reserves that device's first 2 MiB for it. Opening verifies every path against the uuid
/// its index expects, so a swapped or missing device is refused by name.
public struct Superblock: Hashable, Sendable {
    /// Which part a device plays (`flags`). famfs's own mkfs leaves the field 0, read as primary.
    public enum Role: UInt32, Sendable {
        /// Holds the log.
        case primary = 1
        /// An extra device, identified by its uuid.
        case secondary = 2
    }

    /// The device a superblock describes: size, uuid and a name for messages.
    public struct DeviceRecord: Hashable, Sendable {
        public var size: UInt64
        public var uuid: MediaUUID
        public var name: String

        public init(size: UInt64, uuid: MediaUUID, name: String) {
            self.size = size
            self.uuid = uuid
            self.name = name
        }
    }

    public static let encodedSize = 200
    public static let crcOffset = 96
    public static let flagsOffset = 104
    public static let deviceOffset = 112

    public var version: UInt64 = FamfsMedia.version
    public var logOffset: UInt64
    public var logLength: UInt64
    public var allocationUnit: UInt64
    public var formatMajor: UInt32 = FamfsMedia.formatMajor
    public var formatMinor: UInt32 = FamfsMedia.formatMinor
    public var fileSystemUUID: MediaUUID
    public var deviceUUID: MediaUUID
    /// The one host allowed to append to the log.
    public var systemUUID: MediaUUID
    public var role: Role
    /// The device this superblock lives on.
    public var device: DeviceRecord

    public init(logOffset: UInt64, logLength: UInt64, allocationUnit: UInt64 = FamfsMedia.allocationUnit,
                fileSystemUUID: MediaUUID, systemUUID: MediaUUID, role: Role, device: DeviceRecord) {
        self.logOffset = logOffset
        self.logLength = logLength
        self.allocationUnit = allocationUnit
        self.fileSystemUUID = fileSystemUUID
        self.deviceUUID = device.uuid
        self.systemUUID = systemUUID
        self.role = role
        self.device = device
    }

    /// Bytes the file system never allocates on this device: the superblock region, and the
    /// log on the primary.
    public var reservedBytes: UInt64 { max(FamfsMedia.superblockReservation, logOffset + logLength) }

    /// The 200 bytes famfs reads, crc included.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: Self.encodedSize)
        writer.write(FamfsMedia.superblockMagic)
        writer.write(version)
        writer.write(logOffset)
        writer.write(logLength)
        writer.write(allocationUnit)
        writer.write(formatMajor)
        writer.write(formatMinor)
        writer.write(bytes: fileSystemUUID.bytes)
        writer.write(bytes: deviceUUID.bytes)
        writer.write(bytes: systemUUID.bytes)
        writer.write(Checksum.crc32(writer.bytes[0..<Self.crcOffset]))
        writer.write(role.rawValue)
        writer.writeZeros(4)
        writer.write(device.size)
        writer.write(bytes: device.uuid.bytes)
        writer.writeFixedString(device.name.fitsNulTerminated(in: FamfsMedia.deviceNameField) ? device.name : "",
                                size: FamfsMedia.deviceNameField)
        return writer.bytes
    }

    /// Decodes and checks magic, crc, version, format and flags; `validate` checks the sizes.
    public init(decoding bytes: ArraySlice<UInt8>) throws(MediaFormatError) {
        var reader = MediaReader(bytes, structure: "superblock")
        let magic: UInt64 = try reader.read("magic")
        guard magic == FamfsMedia.superblockMagic else {
            throw .badMagic(structure: "superblock", found: magic, expected: FamfsMedia.superblockMagic)
        }
        version = try reader.read("version")
        logOffset = try reader.read("log_offset")
        logLength = try reader.read("log_len")
        allocationUnit = try reader.read("alloc_unit")
        formatMajor = try reader.read("format_major")
        formatMinor = try reader.read("format_minor")
        fileSystemUUID = try reader.uuid("fs_uuid")
        deviceUUID = try reader.uuid("device_uuid")
        systemUUID = try reader.uuid("system_uuid")
        let stored: UInt64 = try reader.read("crc")
        let start = bytes.startIndex
        let computed = Checksum.crc32(bytes[start..<(start + Self.crcOffset)])
        guard stored == computed else { throw .checksumMismatch(structure: "superblock", stored: stored, computed: computed) }
        guard version == FamfsMedia.version else {
            throw reader.invalid("version", version, "is not famfs's \(FamfsMedia.version)")
        }
        guard formatMajor == FamfsMedia.formatMajor else {
            throw reader.invalid("format_major", UInt64(formatMajor), "is not \(FamfsMedia.formatMajor)")
        }
        let flags: UInt32 = try reader.read("flags")
        guard let role = flags == 0 ? .primary : Role(rawValue: flags) else {
            throw reader.invalid("flags", UInt64(flags), "is neither primary (0 or 1) nor secondary (2)")
        }
        self.role = role
        try reader.skip(4, "flags padding")
        device = DeviceRecord(size: try reader.read("device.size"), uuid: try reader.uuid("device.uuid"),
                              name: try reader.terminatedString(FamfsMedia.deviceNameField, "device.name"))
    }

    /// Checks the fields the crc does not cover, and that everything fits a device of `deviceSize` bytes.
    public func validate(deviceSize: UInt64) throws(MediaFormatError) {
        func invalid(_ field: String, _ value: UInt64, _ reason: String) -> MediaFormatError {
            .invalidField(structure: "superblock", field: field, value: value, reason: reason)
        }
        guard FamfsMedia.acceptedAllocationUnits.contains(allocationUnit) else {
            throw invalid("alloc_unit", allocationUnit, "is neither 4 KiB nor 2 MiB")
        }
        guard device.uuid == deviceUUID else {
            throw invalid("device.uuid", 0, "(\(device.uuid)) differs from device_uuid (\(deviceUUID))")
        }
        switch role {
        case .primary:
            guard logOffset == FamfsMedia.superblockReservation else {
                throw invalid("log_offset", logOffset, "is not 2 MiB")
            }
            guard logLength > 0, logLength.nonzeroBitCount == 1 else {
                throw invalid("log_len", logLength, "is not a power of two")
            }
        case .secondary:
            guard logOffset == 0, logLength == 0 else {
                throw invalid("log_len", logLength, "is not 0 on a secondary device")
            }
        }
        guard device.size >= reservedBytes else {
            throw invalid("device.size", device.size, "is smaller than the superblock and log (\(reservedBytes) bytes)")
        }
        guard device.size <= deviceSize else {
            throw invalid("device.size", device.size, "exceeds the device's \(deviceSize) bytes: the device was truncated or is the wrong one")
        }
    }
}
