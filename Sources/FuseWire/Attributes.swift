import WireBytes

/// `fuse_attr`: a file's attributes as the kernel caches them.
public struct Attributes: WireStruct {
    public static let wireSize = 88
    public var inode: UInt64
    public var size: UInt64
    /// 512-byte blocks allocated.
    public var blocks: UInt64
    public var atime: UInt64
    public var mtime: UInt64
    public var ctime: UInt64
    public var atimeNanoseconds: UInt32
    public var mtimeNanoseconds: UInt32
    public var ctimeNanoseconds: UInt32
    public var mode: UInt32
    public var linkCount: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var rdev: UInt32
    public var blockSize: UInt32
    public var flags: UInt32

    public init(inode: UInt64, size: UInt64, blocks: UInt64, atime: UInt64 = 0, mtime: UInt64 = 0, ctime: UInt64 = 0,
                atimeNanoseconds: UInt32 = 0, mtimeNanoseconds: UInt32 = 0, ctimeNanoseconds: UInt32 = 0,
                mode: UInt32, linkCount: UInt32, uid: UInt32, gid: UInt32, rdev: UInt32 = 0,
                blockSize: UInt32, flags: UInt32 = 0) {
        self.inode = inode
        self.size = size
        self.blocks = blocks
        self.atime = atime
        self.mtime = mtime
        self.ctime = ctime
        self.atimeNanoseconds = atimeNanoseconds
        self.mtimeNanoseconds = mtimeNanoseconds
        self.ctimeNanoseconds = ctimeNanoseconds
        self.mode = mode
        self.linkCount = linkCount
        self.uid = uid
        self.gid = gid
        self.rdev = rdev
        self.blockSize = blockSize
        self.flags = flags
    }

    /// A time in seconds since the epoch as FUSE carries it: a signed count in a u64 field,
    /// so a time before 1970 travels as its two's complement.
    public static func wireSeconds(_ seconds: Int) -> UInt64 { UInt64(bitPattern: Int64(seconds)) }

    /// The signed seconds a FUSE time field (`fuse_attr`, `fuse_setattr_in`) carries.
    public static func seconds(fromWire value: UInt64) -> Int { Int(Int64(bitPattern: value)) }

    public init(reading input: inout ByteReader) throws(WireDecodingError) {
        inode = try input.read(field: "fuse_attr.ino")
        size = try input.read(field: "fuse_attr.size")
        blocks = try input.read(field: "fuse_attr.blocks")
        atime = try input.read(field: "fuse_attr.atime")
        mtime = try input.read(field: "fuse_attr.mtime")
        ctime = try input.read(field: "fuse_attr.ctime")
        atimeNanoseconds = try input.read(field: "fuse_attr.atimensec")
        mtimeNanoseconds = try input.read(field: "fuse_attr.mtimensec")
        ctimeNanoseconds = try input.read(field: "fuse_attr.ctimensec")
        mode = try input.read(field: "fuse_attr.mode")
        linkCount = try input.read(field: "fuse_attr.nlink")
        uid = try input.read(field: "fuse_attr.uid")
        gid = try input.read(field: "fuse_attr.gid")
        rdev = try input.read(field: "fuse_attr.rdev")
        blockSize = try input.read(field: "fuse_attr.blksize")
        flags = try input.read(field: "fuse_attr.flags")
    }

    public func write(to output: inout ByteWriter) {
        for value in [inode, size, blocks, atime, mtime, ctime] { output.write(value) }
        for value in [atimeNanoseconds, mtimeNanoseconds, ctimeNanoseconds, mode, linkCount,
                      uid, gid, rdev, blockSize, flags] { output.write(value) }
    }
}

/// How long the kernel may trust a name or attributes, in seconds and nanoseconds.
public struct CacheValidity: Hashable, Sendable {
    public var seconds: UInt64
    public var nanoseconds: UInt32

    public init(seconds: UInt64, nanoseconds: UInt32 = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    public static let none = CacheValidity(seconds: 0)
}

/// `fuse_entry_out`: the reply to LOOKUP, MKDIR and CREATE (first half), and a READDIRPLUS entry.
public struct EntryReply: WireStruct {
    public static let wireSize = 40 + Attributes.wireSize
    public var nodeID: UInt64
    public var generation: UInt64
    public var entryValidity: CacheValidity
    public var attributeValidity: CacheValidity
    public var attributes: Attributes

    public init(nodeID: UInt64, generation: UInt64 = 0, entryValidity: CacheValidity,
                attributeValidity: CacheValidity, attributes: Attributes) {
        self.nodeID = nodeID
        self.generation = generation
        self.entryValidity = entryValidity
        self.attributeValidity = attributeValidity
        self.attributes = attributes
    }

    public init(reading input: inout ByteReader) throws(WireDecodingError) {
        nodeID = try input.read(field: "fuse_entry_out.nodeid")
        generation = try input.read(field: "fuse_entry_out.generation")
        let entrySeconds: UInt64 = try input.read(field: "fuse_entry_out.entry_valid")
        let attrSeconds: UInt64 = try input.read(field: "fuse_entry_out.attr_valid")
        let entryNanos: UInt32 = try input.read(field: "fuse_entry_out.entry_valid_nsec")
        let attrNanos: UInt32 = try input.read(field: "fuse_entry_out.attr_valid_nsec")
        entryValidity = CacheValidity(seconds: entrySeconds, nanoseconds: entryNanos)
        attributeValidity = CacheValidity(seconds: attrSeconds, nanoseconds: attrNanos)
        attributes = try Attributes(reading: &input)
    }

    public func write(to output: inout ByteWriter) {
        output.write(nodeID)
        output.write(generation)
        output.write(entryValidity.seconds)
        output.write(attributeValidity.seconds)
        output.write(entryValidity.nanoseconds)
        output.write(attributeValidity.nanoseconds)
        attributes.write(to: &output)
    }
}

/// `fuse_attr_out`: the reply to GETATTR and SETATTR.
public struct AttributesReply: WireStruct {
    public static let wireSize = 16 + Attributes.wireSize
    public var validity: CacheValidity
    public var attributes: Attributes

    public init(validity: CacheValidity, attributes: Attributes) {
        self.validity = validity
        self.attributes = attributes
    }

    public init(reading input: inout ByteReader) throws(WireDecodingError) {
        let seconds: UInt64 = try input.read(field: "fuse_attr_out.attr_valid")
        let nanos: UInt32 = try input.read(field: "fuse_attr_out.attr_valid_nsec")
        try input.skip(4, field: "fuse_attr_out.dummy")
        validity = CacheValidity(seconds: seconds, nanoseconds: nanos)
        attributes = try Attributes(reading: &input)
    }

    public func write(to output: inout ByteWriter) {
        output.write(validity.seconds)
        output.write(validity.nanoseconds)
        output.write(UInt32(0))
        attributes.write(to: &output)
    }
}

/// `fuse_kstatfs` (the STATFS reply body).
public struct StatfsReply: WireStruct {
    public static let wireSize = 80
    public var blocks: UInt64
    public var freeBlocks: UInt64
    public var availableBlocks: UInt64
    public var files: UInt64
    public var freeFiles: UInt64
    public var blockSize: UInt32
    public var maxNameLength: UInt32
    public var fragmentSize: UInt32

    public init(blocks: UInt64, freeBlocks: UInt64, availableBlocks: UInt64, files: UInt64, freeFiles: UInt64,
                blockSize: UInt32, maxNameLength: UInt32, fragmentSize: UInt32) {
        self.blocks = blocks
        self.freeBlocks = freeBlocks
        self.availableBlocks = availableBlocks
        self.files = files
        self.freeFiles = freeFiles
        self.blockSize = blockSize
        self.maxNameLength = maxNameLength
        self.fragmentSize = fragmentSize
    }

    public init(reading input: inout ByteReader) throws(WireDecodingError) {
        blocks = try input.read(field: "fuse_kstatfs.blocks")
        freeBlocks = try input.read(field: "fuse_kstatfs.bfree")
        availableBlocks = try input.read(field: "fuse_kstatfs.bavail")
        files = try input.read(field: "fuse_kstatfs.files")
        freeFiles = try input.read(field: "fuse_kstatfs.ffree")
        blockSize = try input.read(field: "fuse_kstatfs.bsize")
        maxNameLength = try input.read(field: "fuse_kstatfs.namelen")
        fragmentSize = try input.read(field: "fuse_kstatfs.frsize")
        try input.skip(28, field: "fuse_kstatfs.padding")
    }

    public func write(to output: inout ByteWriter) {
        for value in [blocks, freeBlocks, availableBlocks, files, freeFiles] { output.write(value) }
        for value in [blockSize, maxNameLength, fragmentSize] { output.write(value) }
        output.writeZeros(28)
    }
}
