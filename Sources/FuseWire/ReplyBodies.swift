import WireBytes

/// `fuse_open_out` (OPEN, OPENDIR, and CREATE's second half).
public struct OpenReply: WireStruct {
    public static let wireSize = 16
    public struct Flags: OptionSet, Hashable, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let directIO = Flags(rawValue: 1 << 0)
        public static let keepCache = Flags(rawValue: 1 << 1)
        public static let nonSeekable = Flags(rawValue: 1 << 2)
        public static let cacheDirectory = Flags(rawValue: 1 << 3)
        /// The kernel does reads, writes and mmap on the backing file named by `backingID`.
        public static let passthrough = Flags(rawValue: 1 << 7)
    }
    public var fileHandle: UInt64
    public var flags: Flags
    /// From `FUSE_DEV_IOC_BACKING_OPEN`, with `.passthrough`; 0 otherwise.
    public var backingID: Int32
    public init(fileHandle: UInt64, flags: Flags = [], backingID: Int32 = 0) {
        self.fileHandle = fileHandle
        self.flags = flags
        self.backingID = backingID
    }
    public init(reading input: inout ByteReader) throws(WireDecodingError) {
        fileHandle = try input.read(field: "fuse_open_out.fh")
        flags = Flags(rawValue: try input.read(field: "fuse_open_out.open_flags"))
        backingID = try input.read(field: "fuse_open_out.backing_id")
    }
    public func write(to output: inout ByteWriter) {
        output.write(fileHandle)
        output.write(flags.rawValue)
        output.write(backingID)
    }
}

/// A reply body that is one 32-bit count and padding: `fuse_write_out` (bytes written)
/// and `fuse_getxattr_out` (the value or list size when the caller asked with size 0).
public struct SizeReply: WireStruct {
    public static let wireSize = 8
    public var size: UInt32
    public init(size: UInt32) { self.size = size }
    public init(reading input: inout ByteReader) throws(WireDecodingError) {
        size = try input.read(field: "fuse_write_out.size")
        try input.skip(4, field: "fuse_write_out.padding")
    }
    public func write(to output: inout ByteWriter) {
        output.write(size)
        output.write(UInt32(0))
    }
}

/// `fuse_lseek_out`.
public struct LseekReply: WireStruct {
    public static let wireSize = 8
    public var offset: UInt64
    public init(offset: UInt64) { self.offset = offset }
    public init(reading input: inout ByteReader) throws(WireDecodingError) {
        offset = try input.read(field: "fuse_lseek_out.offset")
    }
    public func write(to output: inout ByteWriter) { output.write(offset) }
}

/// `fuse_daxdev_out`: the GET_DAXDEV reply, exactly 280 bytes, naming the device path.
public struct DaxdevReply: WireStruct {
    public static let wireSize = 280
    public static let nameCapacity = 256
    public var index: UInt16
    /// NUL-terminated on the wire; at most 255 bytes.
    public var name: String
    public init(index: UInt16, name: String) {
        self.index = index
        self.name = name
    }
    public init(reading input: inout ByteReader) throws(WireDecodingError) {
        index = try input.read(field: "fuse_daxdev_out.index")
        try input.skip(22, field: "fuse_daxdev_out.reserved")
        let raw = try input.readBytes(Self.nameCapacity, field: "fuse_daxdev_out.name")
        guard let end = raw.firstIndex(of: 0) else {
            throw .invalidValue(field: "fuse_daxdev_out.name", value: UInt64(raw.count), reason: "not NUL-terminated")
        }
        name = String(decoding: raw[raw.startIndex..<end], as: UTF8.self)
    }
    /// Writes the reply; the caller checks `name.fitsNulTerminated(in: nameCapacity)` first.
    public func write(to output: inout ByteWriter) {
        output.write(index)
        output.writeZeros(22)
        output.writeFixedString(name, size: Self.nameCapacity - 1)
        output.write(UInt8(0))
    }
}

/// `fuse_notify_inval_inode_out`: drop cached data (and attributes) of a node.
public struct InvalidateInodeNotification: WireStruct {
    public static let wireSize = 24
    /// `FUSE_NOTIFY_INVAL_INODE`, sent as the header's error field with unique 0.
    public static let code: Int32 = 2
    public var nodeID: UInt64
    /// Start of the data range to drop; negative drops attributes only.
    public var offset: Int64
    /// Bytes to drop; 0 means to the end of the file.
    public var length: Int64
    public init(nodeID: UInt64, offset: Int64 = 0, length: Int64 = 0) {
        self.nodeID = nodeID
        self.offset = offset
        self.length = length
    }
    public init(reading input: inout ByteReader) throws(WireDecodingError) {
        nodeID = try input.read(field: "fuse_notify_inval_inode_out.ino")
        offset = try input.read(field: "fuse_notify_inval_inode_out.off")
        length = try input.read(field: "fuse_notify_inval_inode_out.len")
    }
    public func write(to output: inout ByteWriter) {
        output.write(nodeID)
        output.write(offset)
        output.write(length)
    }
}

/// `fuse_backing_map`: the argument of `FUSE_DEV_IOC_BACKING_OPEN` (and of famfs's daxdev
/// push, which puts the device index in the last word).
public struct BackingMap: WireStruct {
    public static let wireSize = 16
    public var fileDescriptor: Int32
    public var flags: UInt32
    public var word: UInt64
    public init(fileDescriptor: Int32, flags: UInt32 = 0, word: UInt64 = 0) {
        self.fileDescriptor = fileDescriptor
        self.flags = flags
        self.word = word
    }
    public init(reading input: inout ByteReader) throws(WireDecodingError) {
        fileDescriptor = try input.read(field: "fuse_backing_map.fd")
        flags = try input.read(field: "fuse_backing_map.flags")
        word = try input.read(field: "fuse_backing_map.padding")
    }
    public func write(to output: inout ByteWriter) {
        output.write(fileDescriptor)
        output.write(flags)
        output.write(word)
    }
}
