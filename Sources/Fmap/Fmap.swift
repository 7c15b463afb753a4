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

    /// The parts of the claimed device ranges that file bytes `[0, end)` do not occupy:
    /// what lies past them in each simple extent and in each strip (the rest of the last
    /// chunk, and allocation rounding), in `claimedRanges` order. Empty parts are left out.
    public func rangesNotHoldingFileBytes(below end: UInt64) -> [SimpleExtent] {
        var unused: [SimpleExtent] = []
        func keep(_ range: SimpleExtent, usedBytes: UInt64) {
            let used = min(usedBytes, range.length)
            if used < range.length {
                unused.append(SimpleExtent(device: range.device, offset: range.offset + used, length: range.length - used))
            }
        }
        var fileStart: UInt64 = 0
        switch extents {
        case .simple(let list):
            for extent in list {
                keep(extent, usedBytes: end > fileStart ? end - fileStart : 0)
                fileStart &+= extent.length
            }
        case .interleaved(let list):
            for extent in list {
                let local = min(end > fileStart ? end - fileStart : 0, extent.byteCount)
                let (fullChunks, partial) = extent.chunkSize > 0 ? local.quotientAndRemainder(dividingBy: extent.chunkSize) : (0, 0)
                let count = UInt64(extent.strips.count)
                for (s, strip) in extent.strips.enumerated() {
                    // Chunk c sits in strip c % count, so strip s holds the full chunks s, s + count, ….
                    let index = UInt64(s)
                    let full = fullChunks > index ? (fullChunks - index + count - 1) / count : 0
                    let tail = fullChunks % count == index ? partial : 0
                    keep(strip, usedBytes: full * extent.chunkSize + tail)
                }
                fileStart &+= extent.byteCount
            }
        }
        return unused
    }

    /// Total device bytes claimed, which may exceed `fileSize` by allocation rounding.
    public var allocatedBytes: UInt64 {
        claimedRanges.reduce(0) { $0 &+ $1.length }
    }
}

/// Sizes as `0x…` for messages, so alignment problems are visible at a glance.
func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
