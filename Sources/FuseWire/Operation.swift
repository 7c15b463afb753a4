/// A decoded FUSE request's operation and arguments.
///
/// Names are the kernel's NUL-terminated strings without the NUL. Byte payloads (WRITE
/// data, SETXATTR values) are slices of the request buffer, not copies.
public enum Operation: Equatable, Sendable {
    case initialize(InitRequest)
    case lookup(name: String)
    case forget(ForgetArguments)
    case batchForget([ForgetOne])
    case getattr(GetattrArguments)
    case setattr(SetattrArguments)
    case mkdir(MkdirArguments, name: String)
    case unlink(name: String)
    case rmdir(name: String)
    /// RENAME (flags always 0) and RENAME2; the header's opcode tells which was sent.
    case rename(RenameArguments, oldName: String, newName: String)
    case open(OpenArguments)
    case opendir(OpenArguments)
    case create(CreateArguments, name: String)
    case read(ReadArguments)
    case write(WriteArguments, data: ArraySlice<UInt8>)
    case release(ReleaseArguments)
    case releasedir(ReleaseArguments)
    case flush(FlushArguments)
    case fsync(FsyncArguments)
    case fsyncdir(FsyncArguments)
    case readdir(ReadArguments)
    case readdirplus(ReadArguments)
    case statfs
    case getxattr(GetxattrArguments, name: String)
    case setxattr(SetxattrArguments, name: String, value: ArraySlice<UInt8>)
    case listxattr(GetxattrArguments)
    case removexattr(name: String)
    case fallocate(FallocateArguments)
    case access(AccessArguments)
    case lseek(LseekArguments)
    case interrupt(InterruptArguments)
    case destroy
    /// famfs: the fmap of the header's node (sent right after its OPEN).
    case getFmap
    /// famfs: the device behind an index; the index travels in the header's `nodeid`.
    case getDaxdev
    /// An opcode the daemon does not serve; answered with ENOSYS.
    case unsupported
}

/// The raw opcodes a kernel generation uses for the famfs messages.
public struct FamfsOpcodes: Hashable, Sendable {
    public var getFmap: UInt32
    public var getDaxdev: UInt32

    public init(getFmap: UInt32, getDaxdev: UInt32) {
        self.getFmap = getFmap
        self.getDaxdev = getDaxdev
    }

    /// The posted famfs-FUSE series (V3 onwards).
    public static let posted = FamfsOpcodes(getFmap: 54, getDaxdev: 55)
    /// The early famfs libfuse branch (RFC V2 era).
    public static let rfcV2 = FamfsOpcodes(getFmap: 53, getDaxdev: 54)
}
