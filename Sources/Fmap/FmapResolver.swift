/// Where one file byte lives, and how far the mapping runs unbroken from there.
public struct ResolvedLocation: Hashable, Sendable {
    public var device: UInt32
    public var deviceOffset: UInt64
    /// Bytes from this offset that stay contiguous on the device: up to the next chunk or
    /// extent boundary, never past the file's size.
    public var contiguousBytes: UInt64

    public init(device: UInt32, deviceOffset: UInt64, contiguousBytes: UInt64) {
        self.device = device
        self.deviceOffset = deviceOffset
        self.contiguousBytes = contiguousBytes
    }
}

/// Turns file offsets into device locations for one fmap.
///
/// Built once per fmap. When the extents are of one length (a single extent, an unrolled
/// fmap, equal interleaved extents) the extent is found by one division; otherwise by a
/// binary search over at most `FmapLimits.maxExtents` starts. Inside an interleaved extent
/// the strip is pure arithmetic. Results are meaningful for validated fmaps only.
public struct FmapResolver: Sendable {
    private enum Layout: Sendable {
        case simple(SimpleExtent)
        case interleaved(chunkSize: UInt64, strips: [SimpleExtent])
    }

    private struct Segment: Sendable {
        var fileStart: UInt64
        var length: UInt64
        var layout: Layout
    }

    public let fileSize: UInt64
    private let segments: [Segment]
    /// The common segment length when all but the last segment share it.
    private let uniformLength: UInt64?

    public init(_ fmap: Fmap) {
        fileSize = fmap.fileSize
        var start: UInt64 = 0
        var built: [Segment] = []
        switch fmap.extents {
        case .simple(let extents):
            for extent in extents {
                built.append(Segment(fileStart: start, length: extent.length, layout: .simple(extent)))
                start &+= extent.length
            }
        case .interleaved(let extents):
            for extent in extents {
                built.append(Segment(fileStart: start, length: extent.byteCount,
                                     layout: .interleaved(chunkSize: extent.chunkSize, strips: extent.strips)))
                start &+= extent.byteCount
            }
        }
        segments = built
        let leading = built.dropLast()
        if let first = built.first, first.length > 0, leading.allSatisfy({ $0.length == first.length }) {
            uniformLength = first.length
        } else {
            uniformLength = nil
        }
    }

    /// The device location of file byte `offset`, or nil past the file's size or its extents.
    public func resolve(_ offset: UInt64) -> ResolvedLocation? {
        guard offset < fileSize, let index = segmentIndex(containing: offset) else { return nil }
        let segment = segments[index]
        let local = offset - segment.fileStart
        let segmentEnd = min(segment.fileStart &+ segment.length, fileSize)
        switch segment.layout {
        case .simple(let extent):
            return ResolvedLocation(device: extent.device, deviceOffset: extent.offset &+ local,
                                    contiguousBytes: segmentEnd - offset)
        case .interleaved(let chunkSize, let strips):
            let chunk = local / chunkSize
            let within = local % chunkSize
            let strip = strips[Int(chunk % UInt64(strips.count))]
            let stripe = chunk / UInt64(strips.count)
            return ResolvedLocation(device: strip.device,
                                    deviceOffset: strip.offset &+ stripe &* chunkSize &+ within,
                                    contiguousBytes: min(chunkSize - within, segmentEnd - offset))
        }
    }

    private func segmentIndex(containing offset: UInt64) -> Int? {
        guard !segments.isEmpty else { return nil }
        let index: Int
        if let length = uniformLength {
            index = Int(min(offset / length, UInt64(segments.count - 1)))
        } else {
            var low = 0, high = segments.count - 1
            while low < high {
                let mid = (low + high + 1) / 2
                if segments[mid].fileStart <= offset { low = mid } else { high = mid - 1 }
            }
            index = low
        }
        let segment = segments[index]
        return offset - segment.fileStart < segment.length ? index : nil
    }
}
