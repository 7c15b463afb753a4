/// One contiguous run of device memory: `length` bytes at `offset` on device `device`.
public struct SimpleExtent: Hashable, Sendable, CustomStringConvertible {
    public var device: UInt32
    public var offset: UInt64
    public var length: UInt64

    public init(device: UInt32, offset: UInt64, length: UInt64) {
        self.device = device
        self.offset = offset
        self.length = length
    }

    /// One past the last device byte the extent covers (saturating, so hostile input cannot trap).
    public var end: UInt64 { offset.addingReportingOverflow(length).overflow ? .max : offset + length }

    public var description: String { "dev \(device) [\(hex(offset)), +\(hex(length)))" }
}

/// File bytes cut into `chunkSize` chunks laid round-robin over `strips`.
///
/// Chunk `c` of the extent lives on strip `c % strips.count`, stripe `c / strips.count`.
public struct InterleavedExtent: Hashable, Sendable {
    public var chunkSize: UInt64
    /// File bytes this extent covers (`ie_nbytes` on the wire).
    public var byteCount: UInt64
    public var strips: [SimpleExtent]

    public init(chunkSize: UInt64, byteCount: UInt64, strips: [SimpleExtent]) {
        self.chunkSize = chunkSize
        self.byteCount = byteCount
        self.strips = strips
    }
}

/// The two ways famfs describes where a file's bytes live.
public enum FmapExtents: Hashable, Sendable {
    /// Extents laid end to end in file order.
    case simple([SimpleExtent])
    /// Interleaved extents laid end to end in file order, each covering its `byteCount`.
    case interleaved([InterleavedExtent])

    public var count: Int {
        switch self {
        case .simple(let extents): return extents.count
        case .interleaved(let extents): return extents.count
        }
    }
}

/// What kind of famfs file an fmap describes (`file_type` on the wire).
public enum FamfsFileType: UInt8, Sendable, CaseIterable {
    case regular = 0
    case superblock = 1
    case log = 2
}

/// A file's extent map: everything needed to turn a file offset into a device offset.
public struct Fmap: Hashable, Sendable {
    public var fileType: FamfsFileType
    public var fileSize: UInt64
    public var extents: FmapExtents

    public init(fileType: FamfsFileType = .regular, fileSize: UInt64, extents: FmapExtents) {
        self.fileType = fileType
        self.fileSize = fileSize
        self.extents = extents
    }

    /// Every device range the fmap claims: simple extents, and each strip's whole allocation.
    public var claimedRanges: [SimpleExtent] {
        switch extents {
        case .simple(let extents): return extents
        case .interleaved(let extents): return extents.flatMap(\.strips)
        }
    }

    /// One line for logs: the form, and which devices hold the bytes.
    public var summary: String {
        let devices = Set(claimedRanges.map(\.device)).sorted().map(String.init).joined(separator: ",")
        switch extents {
        case .simple(let list):
            return "\(list.count) simple extent(s) on device(s) \(devices)"
        case .interleaved(let list):
            let strips = list.map { "\($0.strips.count) strips of \($0.chunkSize >> 10) KiB chunks" }.joined(separator: "; ")
            return "interleaved, \(strips), on device(s) \(devices)"
        }
    }

    /// Total device bytes claimed, which may exceed `fileSize` by allocation rounding.
    public var allocatedBytes: UInt64 {
        claimedRanges.reduce(0) { $0 &+ $1.length }
    }
}

/// Sizes as `0x…` for messages, so alignment problems are visible at a glance.
func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
