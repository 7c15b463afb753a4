import WireBytes

/// The 48 bytes at the start of famfs's log, followed by fixed-size entry slots.
///
/// The crc covers `[0, 24)` (magic, length, last index), which never change; `nextSeqnum`
/// and `nextIndex` move on every append and are checked against each other and the slot count.
public struct LogHeader: Hashable, Sendable {
    public static let encodedSize = 48
    public static let crcOffset = 24
    public static let nextSeqnumOffset = 32

    /// Log bytes, header included.
    public var length: UInt64
    public var nextSeqnum: UInt64
    public var nextIndex: UInt64

    /// An empty log of `length` bytes.
    public init(length: UInt64) {
        self.length = length
        nextSeqnum = 0
        nextIndex = 0
    }

    /// Entry slots a log of `length` bytes holds.
    public static func slotCount(forLength length: UInt64) -> UInt64 {
        length < UInt64(encodedSize) ? 0 : (length - UInt64(encodedSize)) / UInt64(LogEntry.encodedSize)
    }

    public var slotCount: UInt64 { Self.slotCount(forLength: length) }
    /// famfs's `last_index`: the highest slot index.
    public var lastIndex: UInt64 { slotCount &- 1 }

    /// Byte offset of slot `index` from the start of the log.
    public static func offset(ofSlot index: UInt64) -> UInt64 {
        UInt64(encodedSize) + index * UInt64(LogEntry.encodedSize)
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: Self.encodedSize)
        writer.write(FamfsMedia.logMagic)
        writer.write(length)
        writer.write(lastIndex)
        writer.write(Checksum.crc32(writer.bytes[0..<Self.crcOffset]))
        writer.write(nextSeqnum)
        writer.write(nextIndex)
        return writer.bytes
    }

    /// Decodes and checks the header of a log that the superblock says is `expectedLength` bytes.
    public init(decoding bytes: ArraySlice<UInt8>, expectedLength: UInt64) throws(MediaFormatError) {
        var reader = MediaReader(bytes, structure: "log header")
        let magic: UInt64 = try reader.read("magic")
        guard magic == FamfsMedia.logMagic else {
            throw .badMagic(structure: "log header", found: magic, expected: FamfsMedia.logMagic)
        }
        length = try reader.read("length")
        let lastIndex: UInt64 = try reader.read("last_index")
        let stored: UInt64 = try reader.read("crc")
        let start = bytes.startIndex
        let computed = Checksum.crc32(bytes[start..<(start + Self.crcOffset)])
        guard stored == computed else { throw .checksumMismatch(structure: "log header", stored: stored, computed: computed) }
        nextSeqnum = try reader.read("next_seqnum")
        nextIndex = try reader.read("next_index")
        guard length == expectedLength else {
            throw reader.invalid("length", length, "differs from the superblock's log length \(expectedLength)")
        }
        guard lastIndex == self.lastIndex else {
            throw reader.invalid("last_index", lastIndex, "is not \(self.lastIndex) for a \(length)-byte log")
        }
        guard nextIndex <= slotCount else {
            throw reader.invalid("next_index", nextIndex, "is past the log's \(slotCount) slots")
        }
        guard nextSeqnum == nextIndex else {
            throw reader.invalid("next_seqnum", nextSeqnum, "differs from next_index \(nextIndex)")
        }
    }
}
