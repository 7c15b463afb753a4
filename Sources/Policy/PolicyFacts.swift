/// What a policy is told about a file.
public struct FileFacts: Hashable, Sendable {
    public var path: String
    public var size: UInt64
    public var uid: UInt32
    public var gid: UInt32
    /// `st_mode`, type bits included (0o100644 for a regular file).
    public var mode: UInt32

    public init(path: String, size: UInt64, uid: UInt32 = 0, gid: UInt32 = 0, mode: UInt32 = 0o100644) {
        self.path = path
        self.size = size
        self.uid = uid
        self.gid = gid
        self.mode = mode
    }
}

/// What a policy is told about a device. `index` is the fmap's device index (0-based).
public struct DeviceFacts: Hashable, Sendable {
    public var index: UInt32
    public var path: String
    public var size: UInt64
    /// The alignment `alloc` gives by default: the 2 MiB allocation unit, or a devdax
    /// device's own alignment when that is larger.
    public var alignment: UInt64
    /// The NUMA node holding the device's memory; nil when unknown (file-backed devices).
    public var numaNode: Int?

    public init(index: UInt32, path: String, size: UInt64, alignment: UInt64, numaNode: Int? = nil) {
        self.index = index
        self.path = path
        self.size = size
        self.alignment = alignment
        self.numaNode = numaNode
    }
}

/// Where a new file's bytes live.
public enum Placement: Hashable, Sendable {
    /// On DAX memory, mapped by a `layout` fmap.
    case dax
    /// In a regular backing file the kernel reads and writes itself.
    case passthrough(backingPath: String)
}

/// Bounds on a policy's work.
public struct PolicyLimits: Hashable, Sendable {
    /// Lua VM instructions one hook call may run (checked every 1000).
    public var instructionBudget: Int
    /// Bytes one policy state may hold.
    public var memoryBytes: Int
    /// Wall-clock time one hook call may take, checked with the budget: it stops a script
    /// whose time goes into library calls the instruction count does not see.
    public var timeLimit: Duration

    public init(instructionBudget: Int = 10_000_000, memoryBytes: Int = 64 << 20, timeLimit: Duration = .seconds(2)) {
        self.instructionBudget = instructionBudget
        self.memoryBytes = memoryBytes
        self.timeLimit = timeLimit
    }

    var timeLimitNanoseconds: Int64 {
        let (seconds, attoseconds) = timeLimit.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
