import Fmap

/// Constants of famfs's on-media format (magic numbers, versions, reserved sizes, limits).
public enum FamfsMedia {
    public static let superblockMagic: UInt64 = 0x87b2_82ff
    public static let logMagic: UInt64 = 0xbad_cafe_f00d
    /// famfs's superblock version (`ts_version`).
    public static let version: UInt64 = 48
    public static let formatMajor: UInt32 = 2
    public static let formatMinor: UInt32 = 2

    /// Bytes at the start of every device reserved for its superblock; the log starts here.
    public static let superblockReservation: UInt64 = FmapLimits.mib2
    /// famfs's default log length, which is also the smallest its tools accept.
    public static let defaultLogLength: UInt64 = 8 << 20

    /// Bytes at the start of a device that mkfs keeps from the allocator: the superblock, and
    /// on the primary device the log after it.
    public static func reservedBytes(primary: Bool, logLength: UInt64 = defaultLogLength) -> UInt64 {
        superblockReservation + (primary ? logLength : 0)
    }

    public static let minimumLogLength: UInt64 = 8 << 20
    /// The unit files are allocated in.
    public static let allocationUnit: UInt64 = FmapLimits.mib2
    /// Allocation units famfs's checker accepts in a superblock.
    public static let acceptedAllocationUnits: Set<UInt64> = [FmapLimits.kib4, FmapLimits.mib2]
    /// famfs's mkfs refuses smaller devdax devices; file-backed devices may be smaller.
    public static let minimumDevdaxSize: UInt64 = 4 << 30

    /// Bytes of a relative path field, NUL included.
    public static let relativePathField = 80
    /// Bytes of a device name field, NUL included.
    public static let deviceNameField = 64
    /// Simple extents one FILE entry holds.
    public static let maxSimpleExtents = 16
    /// Interleaved extents one FILE entry holds.
    public static let maxInterleavedExtents = 1
    /// Strips one interleaved extent holds.
    public static let maxStrips = 16

    /// Whether `length` is a log length famfs's tools accept: a power of two of at least 8 MiB.
    public static func isValidLogLength(_ length: UInt64) -> Bool {
        length >= minimumLogLength && length.nonzeroBitCount == 1
    }
}
