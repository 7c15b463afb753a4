import Fmap
import FuseWire

/// Everything that differs between the kernels the daemon may talk to about famfs: opcodes,
/// the capability bit, how devices are made known, and the fmaps the kernel accepts.
///
/// The daemon never guesses: `select` picks one from the INIT offer and says why.
public struct KernelProfile: Hashable, Sendable, CustomStringConvertible {
    public enum Name: String, Sendable, CaseIterable {
        /// The posted famfs-FUSE series V3–V10: GET_DAXDEV pull, device 0 only.
        case posted
        /// famfs's 2026 tree: devices pushed by ioctl, simple extents only.
        case push
        /// No famfs: the daemon serves every byte itself.
        case none
    }

    /// How the kernel learns which device an index names.
    public enum DeviceRegistration: Hashable, Sendable {
        /// The kernel asks with GET_DAXDEV.
        case pull
        /// The server registers every device with an ioctl before the first open.
        case push
        case none
    }

    public let name: Name
    /// The opcodes this generation sends GET_FMAP and GET_DAXDEV with; workers decode with them.
    public let famfsOpcodes: FamfsOpcodes
    /// The INIT bit that means "famfs fmaps"; empty when the profile has none.
    public let capability: Capabilities
    public let deviceRegistration: DeviceRegistration
    /// What a GET_FMAP reply must satisfy under this kernel.
    public let fmapLimits: FmapLimits
    /// Interleaved fmaps are sent as uniform simple extents.
    public let unrollsInterleave: Bool

    public var description: String { name.rawValue }

    /// The highest protocol minor on which bit 43 can mean FUSE_DAX_FMAP; 7.46 took it for io_uring.
    public static let lastFamfsMinor: UInt32 = 45

    public static let posted = KernelProfile(
        name: .posted, famfsOpcodes: .posted, capability: .daxFmap, deviceRegistration: .pull,
        fmapLimits: FmapLimits(maxExtents: 32, maxStrips: 32, maxReplyBytes: 4096, alignment: FmapLimits.mib2,
                               chunkSizes: [FmapLimits.mib2], maxDevices: 1),
        unrollsInterleave: false)

    public static let push = KernelProfile(
        name: .push, famfsOpcodes: .posted, capability: .daxFmap, deviceRegistration: .push,
        fmapLimits: FmapLimits(maxExtents: (4096 - FmapWireFormat.headerSize) / FmapWireFormat.simpleExtentSize,
                               maxStrips: 32, maxReplyBytes: 4096, alignment: FmapLimits.mib2,
                               chunkSizes: [FmapLimits.kib4, FmapLimits.mib2], maxDevices: 64,
                               allowsInterleaved: false, allowsShortLastExtent: true),
        unrollsInterleave: true)

    public static let none = KernelProfile(
        name: .none, famfsOpcodes: .posted, capability: [], deviceRegistration: .none,
        fmapLimits: .kernel, unrollsInterleave: false)

    public static func named(_ name: Name) -> KernelProfile {
        switch name {
        case .posted: return .posted
        case .push: return .push
        case .none: return .none
        }
    }

    /// What the operator asked for on the command line.
    public enum Request: Hashable, Sendable {
        case auto
        case fixed(Name)

        public init?(argument: String) {
            if argument == "auto" {
                self = .auto
            } else if let name = Name(rawValue: argument) {
                self = .fixed(name)
            } else {
                return nil
            }
        }
    }

    /// The profile for a kernel's INIT offer, with the reason to log. `auto` treats bit 43 as
    /// famfs only on protocol minors up to 45 and picks `push` only when its ioctl works.
    public static func select(_ request: Request, offer: InitRequest, pushRegistrationWorks: Bool) -> (KernelProfile, reason: String) {
        let offersBit = offer.capabilities.contains(.daxFmap)
        switch request {
        case .fixed(let name):
            return (named(name), "--kernel-profile \(name.rawValue) given by the operator")
        case .auto:
            guard offersBit else {
                return (.none, "the kernel (FUSE 7.\(offer.minor)) does not offer FUSE_DAX_FMAP (bit 43)")
            }
            guard offer.minor <= lastFamfsMinor else {
                return (.none, "bit 43 on FUSE 7.\(offer.minor) is not famfs (it means FUSE_HAS_IO_URING_BUFPOOL from 7.46)")
            }
            if pushRegistrationWorks {
                return (.push, "the kernel offers FUSE_DAX_FMAP on FUSE 7.\(offer.minor) and accepts pushed devices")
            }
            return (.posted, "the kernel offers FUSE_DAX_FMAP on FUSE 7.\(offer.minor); devices are pulled with GET_DAXDEV")
        }
    }
}
