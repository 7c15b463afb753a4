import Fmap

/// One record of famfs's append-only log.
public enum LogEntry: Hashable, Sendable {
    case file(FileEntry)
    case mkdir(DirectoryEntry)
    /// An extra device joining the file system (famfs's ADD_DAXDEV).
    case addDevice(DeviceEntry)

    public static let encodedSize = 544
    public static let typeOffset = 8
    public static let bodyOffset = 16
    public static let bodySize = 520
    public static let crcOffset = 536

    /// famfs's entry type numbers. DELETE is defined by famfs but never written or replayed.
    enum EntryType: UInt32 {
        case file = 0
        case mkdir = 1
        case delete = 2
        case addDevice = 3
        case invalid = 4
    }
}

/// A regular file and where its bytes live.
public struct FileEntry: Hashable, Sendable {
    /// famfs's file flags: who may map the file and how. famfs writes `readWrite`.
    public struct Flags: OptionSet, Hashable, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let allHostsReadOnly = Flags(rawValue: 1)
        public static let allHostsReadWrite = Flags(rawValue: 2)
    }

    public static let encodedSize = 520
    public static let pathOffset = 24
    public static let fmapOffset = 104

    public var path: RelativePath
    public var flags: Flags
    public var uid: UInt32
    public var gid: UInt32
    /// Permission bits as famfs stores them.
    public var mode: UInt32
    /// Where the bytes live; `fmap.fileSize` is the file's size.
    public var fmap: Fmap

    public init(path: RelativePath, flags: Flags = .allHostsReadWrite, uid: UInt32, gid: UInt32, mode: UInt32, fmap: Fmap) {
        self.path = path
        self.flags = flags
        self.uid = uid
        self.gid = gid
        self.mode = mode
        self.fmap = fmap
    }

    public var size: UInt64 { fmap.fileSize }
}

/// A directory (famfs's MKDIR).
public struct DirectoryEntry: Hashable, Sendable {
    public static let encodedSize = 92

    public var path: RelativePath
    public var uid: UInt32
    public var gid: UInt32
    public var mode: UInt32

    public init(path: RelativePath, uid: UInt32, gid: UInt32, mode: UInt32) {
        self.path = path
        self.uid = uid
        self.gid = gid
        self.mode = mode
    }
}

/// An extra device: its index in fmaps, its size, and the uuid that identifies it on every host.
public struct DeviceEntry: Hashable, Sendable {
    public static let encodedSize = 32

    public var index: UInt32
    public var size: UInt64
    public var uuid: MediaUUID

    public init(index: UInt32, size: UInt64, uuid: MediaUUID) {
        self.index = index
        self.size = size
        self.uuid = uuid
    }
}

/// A log entry with the slot it occupies (which is also its seqnum).
public struct IndexedEntry: Hashable, Sendable {
    public var index: UInt64
    public var entry: LogEntry

    public init(index: UInt64, entry: LogEntry) {
        self.index = index
        self.entry = entry
    }
}
