/// The rules an fmap must obey for a given consumer (a kernel generation, the on-media log).
public struct FmapLimits: Hashable, Sendable {
    /// Most extents (simple or interleaved) in one fmap.
    public var maxExtents: Int
    /// Most strips in one interleaved extent.
    public var maxStrips: Int
    /// Largest encoded GET_FMAP reply, header included.
    public var maxReplyBytes: Int
    /// Every extent and strip offset and length must be a multiple of this.
    public var alignment: UInt64
    /// Chunk sizes an interleaved extent may use.
    public var chunkSizes: Set<UInt64>
    /// Device indices must be below this.
    public var maxDevices: Int
    /// Extent forms accepted.
    public var allowsInterleaved: Bool
    /// Whether the last simple extent may end short of `alignment` (unrolled fmaps end at
    /// the file's size rather than a chunk boundary).
    public var allowsShortLastExtent: Bool

    public init(maxExtents: Int, maxStrips: Int, maxReplyBytes: Int, alignment: UInt64,
                chunkSizes: Set<UInt64>, maxDevices: Int, allowsInterleaved: Bool = true,
                allowsShortLastExtent: Bool = false) {
        self.maxExtents = maxExtents
        self.maxStrips = maxStrips
        self.maxReplyBytes = maxReplyBytes
        self.alignment = alignment
        self.chunkSizes = chunkSizes
        self.maxDevices = maxDevices
        self.allowsInterleaved = allowsInterleaved
        self.allowsShortLastExtent = allowsShortLastExtent
    }

    public static let kib4: UInt64 = 4 << 10
    public static let mib2: UInt64 = 2 << 20

    /// The kernel's fmap limits from the famfs-FUSE series: 32 extents and strips, a
    /// 4096-byte reply, 2 MiB alignment, 4 KiB or 2 MiB chunks, 64 device slots.
    public static let kernel = FmapLimits(
        maxExtents: 32, maxStrips: 32, maxReplyBytes: 4096, alignment: mib2,
        chunkSizes: [kib4, mib2], maxDevices: 64)
}
