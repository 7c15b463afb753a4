import WireBytes

/// One READDIR entry (`fuse_dirent`): inode, the offset of the next entry, type, name.
public struct DirectoryEntry: Hashable, Sendable {
    public var inode: UInt64
    /// Cookie the kernel passes back to continue after this entry.
    public var nextOffset: UInt64
    /// `d_type`: DT_DIR 4, DT_REG 8.
    public var type: UInt32
    public var name: String

    public init(inode: UInt64, nextOffset: UInt64, type: UInt32, name: String) {
        self.inode = inode
        self.nextOffset = nextOffset
        self.type = type
        self.name = name
    }

    static let headerSize = 24

    /// Bytes this entry takes on the wire, padded to 8.
    var encodedSize: Int { (Self.headerSize + name.utf8.count + 7) & ~7 }
}

/// Packs directory entries into a READDIR or READDIRPLUS reply of at most `capacity` bytes.
///
/// The kernel's buffer size bounds the reply: `append` refuses an entry that would not fit,
/// and the caller stops there; the kernel asks again from the last entry's `nextOffset`.
public struct DirectoryListing {
    public let capacity: Int
    public private(set) var bytes = ByteWriter(capacity: 512)
    public private(set) var count = 0

    public init(capacity: Int) { self.capacity = capacity }

    /// Adds a READDIR entry; false (nothing written) when it does not fit.
    public mutating func append(_ entry: DirectoryEntry) -> Bool {
        guard bytes.count + entry.encodedSize <= capacity else { return false }
        write(entry)
        return true
    }

    /// Adds a READDIRPLUS entry (`fuse_direntplus`): the entry's lookup reply, then the dirent.
    public mutating func append(_ entry: DirectoryEntry, lookup: EntryReply) -> Bool {
        guard bytes.count + EntryReply.wireSize + entry.encodedSize <= capacity else { return false }
        lookup.write(to: &bytes)
        write(entry)
        return true
    }

    private mutating func write(_ entry: DirectoryEntry) {
        bytes.write(entry.inode)
        bytes.write(entry.nextOffset)
        bytes.write(UInt32(entry.name.utf8.count))
        bytes.write(entry.type)
        bytes.write(bytes: entry.name.utf8)
        bytes.pad(toMultipleOf: 8)
        count += 1
    }

    /// Decodes a READDIR reply body (used by tests and the in-test kernel).
    public static func decodeEntries(_ data: ArraySlice<UInt8>) throws(WireDecodingError) -> [DirectoryEntry] {
        var input = ByteReader(data)
        var entries: [DirectoryEntry] = []
        while input.remainingCount > 0 {
            entries.append(try decodeEntry(&input))
        }
        return entries
    }

    /// Decodes a READDIRPLUS reply body.
    public static func decodePlusEntries(_ data: ArraySlice<UInt8>) throws(WireDecodingError) -> [(EntryReply, DirectoryEntry)] {
        var input = ByteReader(data)
        var entries: [(EntryReply, DirectoryEntry)] = []
        while input.remainingCount > 0 {
            let lookup = try EntryReply(reading: &input)
            entries.append((lookup, try decodeEntry(&input)))
        }
        return entries
    }

    private static func decodeEntry(_ input: inout ByteReader) throws(WireDecodingError) -> DirectoryEntry {
        let inode: UInt64 = try input.read(field: "fuse_dirent.ino")
        let next: UInt64 = try input.read(field: "fuse_dirent.off")
        let nameLength: UInt32 = try input.read(field: "fuse_dirent.namelen")
        let type: UInt32 = try input.read(field: "fuse_dirent.type")
        guard nameLength <= 1024 else {
            throw .invalidLength(field: "fuse_dirent.namelen", value: UInt64(nameLength), reason: "longer than any name")
        }
        let name = try input.readBytes(Int(nameLength), field: "fuse_dirent.name")
        let padding = (8 - Int(nameLength) % 8) % 8
        try input.skip(min(padding, input.remainingCount), field: "fuse_dirent.padding")
        return DirectoryEntry(inode: inode, nextOffset: next, type: type, name: String(decoding: name, as: UTF8.self))
    }
}
