/// The 64-bit FUSE capability set: `flags` in the low 32 bits, `flags2` in the high 32.
public struct Capabilities: OptionSet, Hashable, Sendable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let asyncRead = Capabilities(rawValue: 1 << 0)
    public static let atomicOTrunc = Capabilities(rawValue: 1 << 3)
    public static let exportSupport = Capabilities(rawValue: 1 << 4)
    public static let bigWrites = Capabilities(rawValue: 1 << 5)
    public static let dontMask = Capabilities(rawValue: 1 << 6)
    public static let autoInvalData = Capabilities(rawValue: 1 << 12)
    public static let doReaddirplus = Capabilities(rawValue: 1 << 13)
    public static let readdirplusAuto = Capabilities(rawValue: 1 << 14)
    public static let asyncDIO = Capabilities(rawValue: 1 << 15)
    public static let writebackCache = Capabilities(rawValue: 1 << 16)
    public static let parallelDirops = Capabilities(rawValue: 1 << 18)
    public static let maxPages = Capabilities(rawValue: 1 << 22)
    public static let explicitInvalData = Capabilities(rawValue: 1 << 25)
    public static let setxattrExt = Capabilities(rawValue: 1 << 29)
    /// The kernel sends, and reads back, `flags2`.
    public static let initExt = Capabilities(rawValue: 1 << 30)
    /// Kernel passthrough of reads and writes to a backing file (flags2 bit 5).
    public static let passthrough = Capabilities(rawValue: 1 << 37)
    public static let requestTimeout = Capabilities(rawValue: 1 << 42)
    /// famfs fmaps in the 2026 famfs-FUSE series. Mainline 7.46 reuses this bit for
    /// something else: treat it as famfs only on kernels that can mean it.
    public static let daxFmap = Capabilities(rawValue: 1 << 43)
    /// famfs fmaps in the RFC V2 series (July 2025).
    public static let daxFmapRFCv2 = Capabilities(rawValue: 1 << 42)

    /// The low word, as sent in `flags`.
    public var flags: UInt32 { UInt32(truncatingIfNeeded: rawValue) }
    /// The high word, as sent in `flags2`.
    public var flags2: UInt32 { UInt32(truncatingIfNeeded: rawValue >> 32) }

    public init(flags: UInt32, flags2: UInt32) {
        rawValue = UInt64(flags) | UInt64(flags2) << 32
    }
}
