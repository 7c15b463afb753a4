/// FUSE request opcodes the daemon knows, including the famfs extensions.
///
/// Numbers are the kernel's (`enum fuse_opcode`); GET_FMAP and GET_DAXDEV are the posted
/// famfs-FUSE series' values. Other kernel generations map their numbers onto these cases
/// through `FuseOpcodeTable`.
public enum Opcode: UInt32, Sendable, CaseIterable {
    case lookup = 1
    case forget = 2
    case getattr = 3
    case setattr = 4
    case mkdir = 9
    case unlink = 10
    case rmdir = 11
    case rename = 12
    case open = 14
    case read = 15
    case write = 16
    case statfs = 17
    case release = 18
    case fsync = 20
    case setxattr = 21
    case getxattr = 22
    case listxattr = 23
    case removexattr = 24
    case flush = 25
    case `init` = 26
    case opendir = 27
    case readdir = 28
    case releasedir = 29
    case fsyncdir = 30
    case access = 34
    case create = 35
    case interrupt = 36
    case destroy = 38
    case batchForget = 42
    case fallocate = 43
    case readdirplus = 44
    case rename2 = 45
    case lseek = 46
    case getFmap = 54
    case getDaxdev = 55
}
