import WireBytes

// The fixed argument structs that follow `fuse_in_header`, one per operation family.
// Field names follow the kernel's, so a reader can hold them against `linux/fuse.h`.

/// `fuse_forget_in`: drop `lookupCount` references to the request's node.
public struct ForgetArguments: WireStruct {
    public static let wireSize = 8
    public var lookupCount: UInt64
    public init(lookupCount: UInt64) { self.lookupCount = lookupCount }
    public init(reading input: inout ByteReader) throws(WireDecodingError) {
        lookupCount = try input.read(field: "fuse_forget_in.nlookup")
    }
    public func write(to output: inout ByteWriter) { output.write(lookupCount) }
}

/// `fuse_forget_one`: one node of a BATCH_FORGET.
public struct ForgetOne: WireStruct {
    public static let wireSize = 16
    public var nodeID: UInt64
    public var lookupCount: UInt64
    public init(nodeID: UInt64, lookupCount: UInt64) {
        self.nodeID = nodeID
        self.lookupCount = lookupCount
    }
    public init(reading input: inout ByteReader) throws(WireDecodingError) {
        nodeID = try input.read(field: "fuse_forget_one.nodeid")
        lookupCount = try input.read(field: "fuse_forget_one.nlookup")
    }
    public func write(to output: inout ByteWriter) {
        output.write(nodeID)
        output.write(lookupCount)
    }
}

/// `fuse_getattr_in`.
public struct GetattrArguments: WireStruct {
    public static let wireSize = 16
    /// `FUSE_GETATTR_FH` (1) when `fileHandle` is meaningful.
    public var flags: UInt32
    public var fileHandle: UInt64
    public init(flags: UInt32 = 0, fileHandle: UInt64 = 0) {
        self.flags = flags
        self.fileHandle = fileHandle
    }
    public init(reading input: inout ByteReader) throws(WireDecodingError) {
        flags = try input.read(field: "fuse_getattr_in.getattr_flags")
        try input.skip(4, field: "fuse_getattr_in.dummy")
        fileHandle = try input.read(field: "fuse_getattr_in.fh")
    }
    public func write(to output: inout ByteWriter) {
        output.write(flags)
        output.write(UInt32(0))
        output.write(fileHandle)
    }
}

/// `fuse_setattr_in`: only the fields named in `valid` (`FATTR_*` bits) are to be changed.
public struct SetattrArguments: WireStruct {
    public static let wireSize = 88
    public struct Valid: OptionSet, Hashable, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let mode = Valid(rawValue: 1 << 0)
        public static let uid = Valid(rawValue: 1 << 1)
        public static let gid = Valid(rawValue: 1 << 2)
        public static let size = Valid(rawValue: 1 << 3)
        public static let atime = Valid(rawValue: 1 << 4)
        public static let mtime = Valid(rawValue: 1 << 5)
        public static let fileHandle = Valid(rawValue: 1 << 6)
        public static let atimeNow = Valid(rawValue: 1 << 7)
        public static let mtimeNow = Valid(rawValue: 1 << 8)
        public static let lockOwner = Valid(rawValue: 1 << 9)
        public static let ctime = Valid(rawValue: 1 << 10)
        public static let killSuidGid = Valid(rawValue: 1 << 11)
    }
    public var valid: Valid
    public var fileHandle: UInt64
    public var size: UInt64
    public var lockOwner: UInt64
    public var atime: UInt64
    public var mtime: UInt64
    public var ctime: UInt64
    public var atimeNanoseconds: UInt32
    public var mtimeNanoseconds: UInt32
    public var ctimeNanoseconds: UInt32
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32

    public init(valid: Valid, fileHandle: UInt64 = 0, size: UInt64 = 0, lockOwner: UInt64 = 0,
                atime: UInt64 = 0, mtime: UInt64 = 0, ctime: UInt64 = 0, atimeNanoseconds: UInt32 = 0,
                mtimeNanoseconds: UInt32 = 0, ctimeNanoseconds: UInt32 = 0, mode: UInt32 = 0,
                uid: UInt32 = 0, gid: UInt32 = 0) {
        self.valid = valid
        self.fileHandle = fileHandle
        self.size = size
        self.lockOwner = lockOwner
        self.atime = atime
        self.mtime = mtime
        self.ctime = ctime
        self.atimeNanoseconds = atimeNanoseconds
        self.mtimeNanoseconds = mtimeNanoseconds
        self.ctimeNanoseconds = ctimeNanoseconds
        self.mode = mode
        self.uid = uid
        self.gid = gid
    }

    public init(reading input: inout ByteReader) throws(WireDecodingError) {
        valid = Valid(rawValue: try input.read(field: "fuse_setattr_in.valid"))
        try input.skip(4, field: "fuse_setattr_in.padding")
        fileHandle = try input.read(field: "fuse_setattr_in.fh")
        size = try input.read(field: "fuse_setattr_in.size")
        lockOwner = try input.read(field: "fuse_setattr_in.lock_owner")
        atime = try input.read(field: "fuse_setattr_in.atime")
        mtime = try input.read(field: "fuse_setattr_in.mtime")
        ctime = try input.read(field: "fuse_setattr_in.ctime")
        atimeNanoseconds = try input.read(field: "fuse_setattr_in.atimensec")
        mtimeNanoseconds = try input.read(field: "fuse_setattr_in.mtimensec")
        ctimeNanoseconds = try input.read(field: "fuse_setattr_in.ctimensec")
        mode = try input.read(field: "fuse_setattr_in.mode")
        try input.skip(4, field: "fuse_setattr_in.unused4")
        uid = try input.read(field: "fuse_setattr_in.uid")
        gid = try input.read(field: "fuse_setattr_in.gid")
        try input.skip(4, field: "fuse_setattr_in.unused5")
    }

    public func write(to output: inout ByteWriter) {
        output.write(valid.rawValue)
        output.write(UInt32(0))
        for value in [fileHandle, size, lockOwner, atime, mtime, ctime] { output.write(value) }
        for value in [atimeNanoseconds, mtimeNanoseconds, ctimeNanoseconds, mode, 0, uid, gid, 0] { output.write(value) }
    }
}

/// `fuse_open_in` (OPEN and OPENDIR).
public struct OpenArguments: WireStruct {
    public static let wireSize = 8
    /// The `open(2)` flags, O_CREAT/O_EXCL/O_NOCTTY removed by the kernel.
    public var flags: UInt32
    public var openFlags: UInt32
    public init(flags: UInt32, openFlags: UInt32 = 0) {
        self.flags = flags
        self.openFlags = openFlags
    }
    public init(reading input: inout ByteReader) throws(WireDecodingError) {
        flags = try input.read(field: "fuse_open_in.flags")
        openFlags = try input.read(field: "fuse_open_in.open_flags")
    }
    public func write(to output: inout ByteWriter) {
        output.write(flags)
        output.write(openFlags)
    }
}

/// `fuse_create_in` (CREATE; the new name follows).
public struct CreateArguments: WireStruct {
    public static let wireSize = 16
    public var flags: UInt32
    public var mode: UInt32
    public var umask: UInt32
    public var openFlags: UInt32
    public init(flags: UInt32, mode: UInt32, umask: UInt32 = 0, openFlags: UInt32 = 0) {
        self.flags = flags
        self.mode = mode
        self.umask = umask
        self.openFlags = openFlags
    }
    public init(reading input: inout ByteReader) throws(WireDecodingError) {
        flags = try input.read(field: "fuse_create_in.flags")
        mode = try input.read(field: "fuse_create_in.mode")
        umask = try input.read(field: "fuse_create_in.umask")
        openFlags = try input.read(field: "fuse_create_in.open_flags")
    }
    public func write(to output: inout ByteWriter) {
        for value in [flags, mode, umask, openFlags] { output.write(value) }
    }
}

/// `fuse_mkdir_in` (MKDIR; the new name follows).
public struct MkdirArguments: WireStruct {
    public static let wireSize = 8
    public var mode: UInt32
    public var umask: UInt32
    public init(mode: UInt32, umask: UInt32 = 0) {
        self.mode = mode
        self.umask = umask
    }
    public init(reading input: inout ByteReader) throws(WireDecodingError) {
        mode = try input.read(field: "fuse_mkdir_in.mode")
        umask = try input.read(field: "fuse_mkdir_in.umask")
    }
    public func write(to output: inout ByteWriter) {
        output.write(mode)
        output.write(umask)
    }
}

/// `fuse_rename2_in` (RENAME2; old and new names follow). RENAME's `fuse_rename_in` is
/// its first 8 bytes, decoded with `flags` 0.
public struct RenameArguments: WireStruct {
    public static let wireSize = 16
    public static let renameOneSize = 8
    public var newDirectory: UInt64
    /// `RENAME_NOREPLACE` (1), `RENAME_EXCHANGE` (2), `RENAME_WHITEOUT` (4).
    public var flags: UInt32
    public init(newDirectory: UInt64, flags: UInt32 = 0) {
        self.newDirectory = newDirectory
        self.flags = flags
    }
    public init(reading input: inout ByteReader) throws(WireDecodingError) {
        newDirectory = try input.read(field: "fuse_rename2_in.newdir")
        flags = try input.read(field: "fuse_rename2_in.flags")
        try input.skip(4, field: "fuse_rename2_in.padding")
    }
    public func write(to output: inout ByteWriter) {
        output.write(newDirectory)
        output.write(flags)
        output.write(UInt32(0))
    }
}

/// `fuse_read_in` (READ, READDIR, READDIRPLUS).
public struct ReadArguments: WireStruct {
    public static let wireSize = 40
    public var fileHandle: UInt64
    public var offset: UInt64
    public var size: UInt32
    public var readFlags: UInt32
    public var lockOwner: UInt64
    public var flags: UInt32
    public init(fileHandle: UInt64, offset: UInt64, size: UInt32, readFlags: UInt32 = 0,
                lockOwner: UInt64 = 0, flags: UInt32 = 0) {
        self.fileHandle = fileHandle
        self.offset = offset
        self.size = size
        self.readFlags = readFlags
        self.lockOwner = lockOwner
        self.flags = flags
    }
    public init(reading input: inout ByteReader) throws(WireDecodingError) {
        fileHandle = try input.read(field: "fuse_read_in.fh")
        offset = try input.read(field: "fuse_read_in.offset")
        size = try input.read(field: "fuse_read_in.size")
        readFlags = try input.read(field: "fuse_read_in.read_flags")
        lockOwner = try input.read(field: "fuse_read_in.lock_owner")
        flags = try input.read(field: "fuse_read_in.flags")
        try input.skip(4, field: "fuse_read_in.padding")
    }
    public func write(to output: inout ByteWriter) {
        output.write(fileHandle)
        output.write(offset)
        output.write(size)
        output.write(readFlags)
        output.write(lockOwner)
        output.write(flags)
        output.write(UInt32(0))
    }
}

/// `fuse_write_in` (WRITE; `size` bytes of data follow).
public struct WriteArguments: WireStruct {
    public static let wireSize = 40
    public var fileHandle: UInt64
    public var offset: UInt64
    public var size: UInt32
    public var writeFlags: UInt32
    public var lockOwner: UInt64
    public var flags: UInt32
    public init(fileHandle: UInt64, offset: UInt64, size: UInt32, writeFlags: UInt32 = 0,
                lockOwner: UInt64 = 0, flags: UInt32 = 0) {
        self.fileHandle = fileHandle
        self.offset = offset
        self.size = size
        self.writeFlags = writeFlags
        self.lockOwner = lockOwner
        self.flags = flags
    }
    public init(reading input: inout ByteReader) throws(WireDecodingError) {
        fileHandle = try input.read(field: "fuse_write_in.fh")
        offset = try input.read(field: "fuse_write_in.offset")
        size = try input.read(field: "fuse_write_in.size")
        writeFlags = try input.read(field: "fuse_write_in.write_flags")
        lockOwner = try input.read(field: "fuse_write_in.lock_owner")
        flags = try input.read(field: "fuse_write_in.flags")
        try input.skip(4, field: "fuse_write_in.padding")
    }
    public func write(to output: inout ByteWriter) {
        output.write(fileHandle)
        output.write(offset)
        output.write(size)
        output.write(writeFlags)
        output.write(lockOwner)
        output.write(flags)
        output.write(UInt32(0))
    }
}

/// `fuse_release_in` (RELEASE, RELEASEDIR).
public struct ReleaseArguments: WireStruct {
    public static let wireSize = 24
    public var fileHandle: UInt64
    public var flags: UInt32
    public var releaseFlags: UInt32
    public var lockOwner: UInt64
    public init(fileHandle: UInt64, flags: UInt32 = 0, releaseFlags: UInt32 = 0, lockOwner: UInt64 = 0) {
        self.fileHandle = fileHandle
        self.flags = flags
        self.releaseFlags = releaseFlags
        self.lockOwner = lockOwner
    }
    public init(reading input: inout ByteReader) throws(WireDecodingError) {
        fileHandle = try input.read(field: "fuse_release_in.fh")
        flags = try input.read(field: "fuse_release_in.flags")
        releaseFlags = try input.read(field: "fuse_release_in.release_flags")
        lockOwner = try input.read(field: "fuse_release_in.lock_owner")
    }
    public func write(to output: inout ByteWriter) {
        output.write(fileHandle)
        output.write(flags)
        output.write(releaseFlags)
        output.write(lockOwner)
    }
}

/// `fuse_flush_in`.
public struct FlushArguments: WireStruct {
    public static let wireSize = 24
    public var fileHandle: UInt64
    public var lockOwner: UInt64
    public init(fileHandle: UInt64, lockOwner: UInt64 = 0) {
        self.fileHandle = fileHandle
        self.lockOwner = lockOwner
    }
    public init(reading input: inout ByteReader) throws(WireDecodingError) {
        fileHandle = try input.read(field: "fuse_flush_in.fh")
        try input.skip(8, field: "fuse_flush_in.unused")
        lockOwner = try input.read(field: "fuse_flush_in.lock_owner")
    }
    public func write(to output: inout ByteWriter) {
        output.write(fileHandle)
        output.write(UInt64(0))
        output.write(lockOwner)
    }
}

/// `fuse_fsync_in` (FSYNC, FSYNCDIR).
public struct FsyncArguments: WireStruct {
    public static let wireSize = 16
    public var fileHandle: UInt64
    /// Bit 0: data only (fdatasync).
    public var fsyncFlags: UInt32
    public init(fileHandle: UInt64, fsyncFlags: UInt32 = 0) {
        self.fileHandle = fileHandle
        self.fsyncFlags = fsyncFlags
    }
    public init(reading input: inout ByteReader) throws(WireDecodingError) {
        fileHandle = try input.read(field: "fuse_fsync_in.fh")
        fsyncFlags = try input.read(field: "fuse_fsync_in.fsync_flags")
        try input.skip(4, field: "fuse_fsync_in.padding")
    }
    public func write(to output: inout ByteWriter) {
        output.write(fileHandle)
        output.write(fsyncFlags)
        output.write(UInt32(0))
    }
}

/// `fuse_getxattr_in` (GETXATTR, whose name follows, and LISTXATTR).
public struct GetxattrArguments: WireStruct {
    public static let wireSize = 8
    /// The caller's buffer size; 0 asks for the value's size only.
    public var size: UInt32
    public init(size: UInt32) { self.size = size }
    public init(reading input: inout ByteReader) throws(WireDecodingError) {
        size = try input.read(field: "fuse_getxattr_in.size")
        try input.skip(4, field: "fuse_getxattr_in.padding")
    }
    public func write(to output: inout ByteWriter) {
        output.write(size)
        output.write(UInt32(0))
    }
}

/// `fuse_setxattr_in` in its original 8-byte form (the daemon does not negotiate
/// `FUSE_SETXATTR_EXT`); the name and `size` value bytes follow.
public struct SetxattrArguments: WireStruct {
    public static let wireSize = 8
    public var size: UInt32
    /// `XATTR_CREATE` (1) or `XATTR_REPLACE` (2).
    public var flags: UInt32
    public init(size: UInt32, flags: UInt32 = 0) {
        self.size = size
        self.flags = flags
    }
    public init(reading input: inout ByteReader) throws(WireDecodingError) {
        size = try input.read(field: "fuse_setxattr_in.size")
        flags = try input.read(field: "fuse_setxattr_in.flags")
    }
    public func write(to output: inout ByteWriter) {
        output.write(size)
        output.write(flags)
    }
}

/// `fuse_fallocate_in`.
public struct FallocateArguments: WireStruct {
    public static let wireSize = 32
    public var fileHandle: UInt64
    public var offset: UInt64
    public var length: UInt64
    /// `fallocate(2)` mode bits (0 allocates and may grow the file).
    public var mode: UInt32
    public init(fileHandle: UInt64, offset: UInt64, length: UInt64, mode: UInt32 = 0) {
        self.fileHandle = fileHandle
        self.offset = offset
        self.length = length
        self.mode = mode
    }
    public init(reading input: inout ByteReader) throws(WireDecodingError) {
        fileHandle = try input.read(field: "fuse_fallocate_in.fh")
        offset = try input.read(field: "fuse_fallocate_in.offset")
        length = try input.read(field: "fuse_fallocate_in.length")
        mode = try input.read(field: "fuse_fallocate_in.mode")
        try input.skip(4, field: "fuse_fallocate_in.padding")
    }
    public func write(to output: inout ByteWriter) {
        output.write(fileHandle)
        output.write(offset)
        output.write(length)
        output.write(mode)
        output.write(UInt32(0))
    }
}

/// `fuse_interrupt_in`: the request to interrupt.
public struct InterruptArguments: WireStruct {
    public static let wireSize = 8
    public var unique: UInt64
    public init(unique: UInt64) { self.unique = unique }
    public init(reading input: inout ByteReader) throws(WireDecodingError) {
        unique = try input.read(field: "fuse_interrupt_in.unique")
    }
    public func write(to output: inout ByteWriter) { output.write(unique) }
}

/// `fuse_batch_forget_in`: `count` `ForgetOne` entries follow.
public struct BatchForgetArguments: WireStruct {
    public static let wireSize = 8
    public var count: UInt32
    public init(count: UInt32) { self.count = count }
    public init(reading input: inout ByteReader) throws(WireDecodingError) {
        count = try input.read(field: "fuse_batch_forget_in.count")
        try input.skip(4, field: "fuse_batch_forget_in.dummy")
    }
    public func write(to output: inout ByteWriter) {
        output.write(count)
        output.write(UInt32(0))
    }
}

/// `fuse_access_in`.
public struct AccessArguments: WireStruct {
    public static let wireSize = 8
    public var mask: UInt32
    public init(mask: UInt32) { self.mask = mask }
    public init(reading input: inout ByteReader) throws(WireDecodingError) {
        mask = try input.read(field: "fuse_access_in.mask")
        try input.skip(4, field: "fuse_access_in.padding")
    }
    public func write(to output: inout ByteWriter) {
        output.write(mask)
        output.write(UInt32(0))
    }
}

/// `fuse_lseek_in`.
public struct LseekArguments: WireStruct {
    public static let wireSize = 24
    public var fileHandle: UInt64
    public var offset: UInt64
    /// SEEK_DATA (3) or SEEK_HOLE (4); the kernel handles the others itself.
    public var whence: UInt32
    public init(fileHandle: UInt64, offset: UInt64, whence: UInt32) {
        self.fileHandle = fileHandle
        self.offset = offset
        self.whence = whence
    }
    public init(reading input: inout ByteReader) throws(WireDecodingError) {
        fileHandle = try input.read(field: "fuse_lseek_in.fh")
        offset = try input.read(field: "fuse_lseek_in.offset")
        whence = try input.read(field: "fuse_lseek_in.whence")
        try input.skip(4, field: "fuse_lseek_in.padding")
    }
    public func write(to output: inout ByteWriter) {
        output.write(fileHandle)
        output.write(offset)
        output.write(whence)
        output.write(UInt32(0))
    }
}
