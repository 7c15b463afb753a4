import CFuseABIReference
import FuseWire
import Testing
import WireBytes

/// The marker the C reference puts in field `k`: the byte `k` repeated across the field.
func marker<T: FixedWidthInteger>(_ k: UInt64) -> T { T(truncatingIfNeeded: 0x0101_0101_0101_0101 &* k) }

/// Bytes the C compiler lays out for a struct filled by a `ref_*` function.
func cBytes(_ fill: (UnsafeMutablePointer<UInt8>?) -> Int) -> [UInt8] {
    var buffer = [UInt8](repeating: 0xEE, count: 1024)
    let size = buffer.withUnsafeMutableBufferPointer { fill($0.baseAddress) }
    return Array(buffer[..<size])
}

/// The Swift codec must produce the C layout byte for byte, and read it back to the same value.
func expectMatchesC<S: WireStruct>(_ value: S, _ fill: (UnsafeMutablePointer<UInt8>?) -> Int,
                                   sourceLocation: SourceLocation = #_sourceLocation) throws {
    let reference = cBytes(fill)
    #expect(S.wireSize == reference.count, "wireSize of \(S.self)", sourceLocation: sourceLocation)
    #expect(value.encoded == reference, "encoding of \(S.self)", sourceLocation: sourceLocation)
    #expect(try S.decode(reference[...]) == value, "decoding of \(S.self)", sourceLocation: sourceLocation)
}

let markedAttributes = Attributes(
    inode: marker(1), size: marker(2), blocks: marker(3), atime: marker(4), mtime: marker(5), ctime: marker(6),
    atimeNanoseconds: marker(7), mtimeNanoseconds: marker(8), ctimeNanoseconds: marker(9), mode: marker(10),
    linkCount: marker(11), uid: marker(12), gid: marker(13), rdev: marker(14), blockSize: marker(15), flags: marker(16))

@Suite("Wire structs match the kernel's C layout")
struct ABIReferenceTests {
    @Test func headers() throws {
        try expectMatchesC(InHeader(length: marker(1), opcode: marker(2), unique: marker(3), nodeID: marker(4),
                                    uid: marker(5), gid: marker(6), pid: marker(7), totalExtensionLength: marker(8)),
                           ref_fuse_in_header)
        try expectMatchesC(OutHeader(length: marker(1), error: marker(2), unique: marker(3)), ref_fuse_out_header)
    }

    @Test func initMessages() throws {
        let offered = Capabilities(flags: marker(4) | Capabilities.initExt.flags, flags2: marker(5))
        try expectMatchesC(InitRequest(major: marker(1), minor: marker(2), maxReadahead: marker(3), capabilities: offered),
                           ref_fuse_init_in)
        try expectMatchesC(InitReply(major: marker(1), minor: marker(2), maxReadahead: marker(3),
                                     capabilities: Capabilities(flags: marker(4), flags2: marker(11)),
                                     maxBackground: marker(5), congestionThreshold: marker(6), maxWrite: marker(7),
                                     timeGranularity: marker(8), maxPages: marker(9), mapAlignment: marker(10),
                                     maxStackDepth: marker(12), requestTimeout: marker(13)),
                           ref_fuse_init_out)
    }

    @Test func attributeReplies() throws {
        try expectMatchesC(markedAttributes, ref_fuse_attr)
        try expectMatchesC(EntryReply(nodeID: marker(1), generation: marker(2),
                                      entryValidity: CacheValidity(seconds: marker(3), nanoseconds: marker(5)),
                                      attributeValidity: CacheValidity(seconds: marker(4), nanoseconds: marker(6)),
                                      attributes: markedAttributes),
                           ref_fuse_entry_out)
        try expectMatchesC(AttributesReply(validity: CacheValidity(seconds: marker(1), nanoseconds: marker(2)),
                                           attributes: markedAttributes),
                           ref_fuse_attr_out)
        try expectMatchesC(StatfsReply(blocks: marker(1), freeBlocks: marker(2), availableBlocks: marker(3),
                                       files: marker(4), freeFiles: marker(5), blockSize: marker(6),
                                       maxNameLength: marker(7), fragmentSize: marker(8)),
                           ref_fuse_kstatfs)
    }

    @Test func requestArguments() throws {
        try expectMatchesC(ForgetArguments(lookupCount: marker(1)), ref_fuse_forget_in)
        try expectMatchesC(ForgetOne(nodeID: marker(1), lookupCount: marker(2)), ref_fuse_forget_one)
        try expectMatchesC(BatchForgetArguments(count: marker(1)), ref_fuse_batch_forget_in)
        try expectMatchesC(GetattrArguments(flags: marker(1), fileHandle: marker(2)), ref_fuse_getattr_in)
        try expectMatchesC(SetattrArguments(valid: .init(rawValue: marker(1)), fileHandle: marker(2), size: marker(3),
                                            lockOwner: marker(4), atime: marker(5), mtime: marker(6), ctime: marker(7),
                                            atimeNanoseconds: marker(8), mtimeNanoseconds: marker(9),
                                            ctimeNanoseconds: marker(10), mode: marker(11), uid: marker(12), gid: marker(13)),
                           ref_fuse_setattr_in)
        try expectMatchesC(OpenArguments(flags: marker(1), openFlags: marker(2)), ref_fuse_open_in)
        try expectMatchesC(CreateArguments(flags: marker(1), mode: marker(2), umask: marker(3), openFlags: marker(4)),
                           ref_fuse_create_in)
        try expectMatchesC(MkdirArguments(mode: marker(1), umask: marker(2)), ref_fuse_mkdir_in)
        try expectMatchesC(RenameArguments(newDirectory: marker(1), flags: marker(2)), ref_fuse_rename2_in)
        try expectMatchesC(ReadArguments(fileHandle: marker(1), offset: marker(2), size: marker(3), readFlags: marker(4),
                                         lockOwner: marker(5), flags: marker(6)),
                           ref_fuse_read_in)
        try expectMatchesC(WriteArguments(fileHandle: marker(1), offset: marker(2), size: marker(3), writeFlags: marker(4),
                                          lockOwner: marker(5), flags: marker(6)),
                           ref_fuse_write_in)
        try expectMatchesC(ReleaseArguments(fileHandle: marker(1), flags: marker(2), releaseFlags: marker(3),
                                            lockOwner: marker(4)),
                           ref_fuse_release_in)
        try expectMatchesC(FlushArguments(fileHandle: marker(1), lockOwner: marker(2)), ref_fuse_flush_in)
        try expectMatchesC(FsyncArguments(fileHandle: marker(1), fsyncFlags: marker(2)), ref_fuse_fsync_in)
        try expectMatchesC(GetxattrArguments(size: marker(1)), ref_fuse_getxattr_in)
        try expectMatchesC(SetxattrArguments(size: marker(1), flags: marker(2)), ref_fuse_setxattr_in_compat)
        try expectMatchesC(FallocateArguments(fileHandle: marker(1), offset: marker(2), length: marker(3), mode: marker(4)),
                           ref_fuse_fallocate_in)
        try expectMatchesC(InterruptArguments(unique: marker(1)), ref_fuse_interrupt_in)
        try expectMatchesC(AccessArguments(mask: marker(1)), ref_fuse_access_in)
        try expectMatchesC(LseekArguments(fileHandle: marker(1), offset: marker(2), whence: marker(3)), ref_fuse_lseek_in)
    }

    @Test func replyBodies() throws {
        try expectMatchesC(LseekReply(offset: marker(1)), ref_fuse_lseek_out)
        try expectMatchesC(OpenReply(fileHandle: marker(1), flags: .init(rawValue: marker(2)), backingID: marker(3)),
                           ref_fuse_open_out)
        try expectMatchesC(SizeReply(size: marker(1)), ref_fuse_write_out)
        try expectMatchesC(InvalidateInodeNotification(nodeID: marker(1), offset: marker(2), length: marker(3)),
                           ref_fuse_notify_inval_inode_out)
        try expectMatchesC(BackingMap(fileDescriptor: marker(1), flags: marker(2), word: marker(3)), ref_fuse_backing_map)
        try expectMatchesC(DaxdevReply(index: marker(1), name: "/dev/dax0.0"), ref_fuse_daxdev_out)
    }

    @Test func directoryEntryMatchesKernelDirent() throws {
        var listing = DirectoryListing(capacity: 4096)
        let entry = DirectoryEntry(inode: marker(1), nextOffset: marker(2), type: 8, name: "file.bin")
        let appended1 = listing.append(entry)
        #expect(appended1)
        let reference = cBytes(ref_fuse_dirent)
        #expect(listing.bytes.bytes == reference)
        #expect(try DirectoryListing.decodeEntries(reference[...]) == [entry])
    }
}
