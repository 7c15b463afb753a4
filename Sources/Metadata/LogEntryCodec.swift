import Fmap
import WireBytes

extension LogEntry {
    /// The 544 bytes of this entry in slot `seqnum`, unused bytes zeroed and crc stamped.
    /// Throws for what famfs's format cannot hold (ENAMETOOLONG, EFBIG).
    public func encoded(seqnum: UInt64) throws(MediaFormatError) -> [UInt8] {
        var writer = ByteWriter(capacity: Self.encodedSize)
        writer.write(seqnum)
        switch self {
        case .file(let file):
            writer.write(EntryType.file.rawValue)
            writer.writeZeros(4)
            writer.write(file.size)
            writer.write(file.flags.rawValue)
            writer.write(file.uid)
            writer.write(file.gid)
            writer.write(file.mode)
            writer.writeFixedString(file.path.string, size: FamfsMedia.relativePathField)
            try MediaFmap.encode(file.fmap, into: &writer)
        case .mkdir(let directory):
            writer.write(EntryType.mkdir.rawValue)
            writer.writeZeros(4)
            writer.write(directory.uid)
            writer.write(directory.gid)
            writer.write(directory.mode)
            writer.writeFixedString(directory.path.string, size: FamfsMedia.relativePathField)
        case .addDevice(let device):
            writer.write(EntryType.addDevice.rawValue)
            writer.writeZeros(4)
            writer.write(device.size)
            writer.write(bytes: device.uuid.bytes)
            writer.write(device.index)
        }
        writer.writeZeros(Self.crcOffset - writer.count)
        writer.write(Checksum.crc32(writer.bytes[0..<Self.crcOffset]))
        return writer.bytes
    }

    /// Decodes the 544 bytes of slot `index`: crc first, then seqnum == index, then the body.
    public init(decoding bytes: ArraySlice<UInt8>, index: UInt64) throws(MediaFormatError) {
        let structure = "log entry \(index)"
        guard bytes.count >= Self.encodedSize else {
            throw .invalidField(structure: structure, field: "slot", value: UInt64(bytes.count), reason: "is shorter than \(Self.encodedSize) bytes")
        }
        let start = bytes.startIndex
        var crcReader = MediaReader(bytes[(start + Self.crcOffset)...], structure: structure)
        let stored: UInt64 = try crcReader.read("crc")
        let computed = Checksum.crc32(bytes[start..<(start + Self.crcOffset)])
        guard stored == computed else { throw .checksumMismatch(structure: structure, stored: stored, computed: computed) }

        var reader = MediaReader(bytes[start..<(start + Self.crcOffset)], structure: structure)
        let seqnum: UInt64 = try reader.read("seqnum")
        guard seqnum == index else { throw reader.invalid("seqnum", seqnum, "differs from the entry's index \(index)") }
        let rawType: UInt32 = try reader.read("type")
        try reader.skip(4, "type padding")
        switch EntryType(rawValue: rawType) {
        case .file:
            let size: UInt64 = try reader.read("file.size")
            let flags = FileEntry.Flags(rawValue: try reader.read("file.flags"))
            let uid: UInt32 = try reader.read("file.uid")
            let gid: UInt32 = try reader.read("file.gid")
            let mode: UInt32 = try reader.read("file.mode")
            let path = try Self.path(&reader, field: "file.relpath")
            let fmap = try MediaFmap.decode(&reader, fileSize: size)
            self = .file(FileEntry(path: path, flags: flags, uid: uid, gid: gid, mode: mode, fmap: fmap))
        case .mkdir:
            let uid: UInt32 = try reader.read("mkdir.uid")
            let gid: UInt32 = try reader.read("mkdir.gid")
            let mode: UInt32 = try reader.read("mkdir.mode")
            self = .mkdir(DirectoryEntry(path: try Self.path(&reader, field: "mkdir.relpath"), uid: uid, gid: gid, mode: mode))
        case .addDevice:
            let size: UInt64 = try reader.read("daxdev.size")
            let uuid = try reader.uuid("daxdev.uuid")
            self = .addDevice(DeviceEntry(index: try reader.read("daxdev.index"), size: size, uuid: uuid))
        case .delete, .invalid, nil:
            throw reader.invalid("type", UInt64(rawType), "is not a type famfs replays (FILE 0, MKDIR 1, ADD_DAXDEV 3)")
        }
    }

    private static func path(_ reader: inout MediaReader, field: String) throws(MediaFormatError) -> RelativePath {
        let raw = try reader.terminatedString(FamfsMedia.relativePathField, field)
        do { return try RelativePath(raw) } catch {
            throw reader.invalid(field, 0, "'\(raw)' is not a valid relative path: \(error)")
        }
    }
}
