import FuseWire

/// What the daemon accepts of the kernel's INIT offer.
public struct InitNegotiation: Sendable {
    /// The newest protocol minor the daemon speaks.
    public static let newestMinor: UInt32 = 45
    /// The oldest it accepts: 7.31 (Linux 5.4) has every struct the codec uses.
    public static let oldestMinor: UInt32 = 31

    /// The largest READ or WRITE the kernel sends (max_write, and max_pages to match).
    /// 256 KiB rather than 1 MiB: with FUSE_ASYNC_DIO the kernel splits a larger direct
    /// request into requests of this size and sends them together, so several workers copy
    /// one application read or write in parallel (scripts/bench on 2 CPUs: 1 MiB reads by
    /// one reader +45%, 1 MiB writes up to 2x, 1 MiB reads by four readers -8%).
    public var maxWrite: UInt32 = 256 << 10
    /// Which famfs kernel protocol to speak (`--kernel-profile`).
    public var kernelProfile: KernelProfile.Request = .auto
    /// Capabilities taken whenever the kernel offers them.
    public var wanted: Capabilities = [.asyncRead, .bigWrites, .maxPages, .parallelDirops, .autoInvalData,
                                       .doReaddirplus, .readdirplusAuto, .asyncDIO, .initExt]

    public init() {}

    /// Why an offer cannot be served.
    public struct Refusal: Error, CustomStringConvertible {
        public var description: String
    }

    /// The reply to `offer`, or a refusal for a protocol the daemon cannot speak.
    public func reply(to offer: InitRequest) throws(Refusal) -> InitReply {
        guard offer.major == 7 else {
            throw Refusal(description: "kernel speaks FUSE \(offer.major).\(offer.minor); this daemon speaks 7.x")
        }
        guard offer.minor >= Self.oldestMinor else {
            throw Refusal(description: "kernel FUSE 7.\(offer.minor) is older than 7.\(Self.oldestMinor)")
        }
        let accepted = offer.capabilities.intersection(wanted)
        return InitReply(major: 7, minor: min(offer.minor, Self.newestMinor), maxReadahead: offer.maxReadahead,
                         capabilities: accepted, maxBackground: 64, congestionThreshold: 48, maxWrite: maxWrite,
                         timeGranularity: 1, maxPages: UInt16(maxWrite / 4096))
    }

    /// Bytes a worker's read buffer needs: the largest WRITE plus headers, with margin.
    public var requestBufferSize: Int { Int(maxWrite) + 64 * 1024 }
}
