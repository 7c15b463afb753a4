/// Why an fmap was refused. `field` locates the culprit, e.g. `extents[1].strips[3].offset`.
public struct FmapValidationError: Error, Hashable, Sendable, CustomStringConvertible {
    public var field: String
    public var reason: String

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { "\(field): \(reason)" }
}

extension Fmap {
    /// Checks the fmap against `limits` and, when given, the sizes of the devices it may use
    /// (index → bytes). Throws the first fault found, naming the field.
    ///
    /// Checked: extent count, forms, strip count, chunk size, alignment, non-zero lengths,
    /// device index range and bounds, no two ranges of this fmap overlapping, the encoded
    /// size, and everything `validateCoverage` checks.
    public func validate(limits: FmapLimits, deviceSizes: [UInt64]? = nil) throws(FmapValidationError) {
        let count = extents.count
        guard count >= 1 else { throw .init(field: "extents", reason: "an fmap needs at least one extent") }
        guard count <= limits.maxExtents else {
            throw .init(field: "extents", reason: "\(count) extents exceed the limit of \(limits.maxExtents)")
        }
        let checker = RangeChecker(limits: limits, deviceSizes: deviceSizes)
        switch extents {
        case .simple(let list):
            for (i, extent) in list.enumerated() {
                let mayBeShort = limits.allowsShortLastExtent && i == list.count - 1
                try checker.check(extent, field: "extents[\(i)]", lengthMayBeShort: mayBeShort)
            }
        case .interleaved(let list):
            guard limits.allowsInterleaved else {
                throw .init(field: "ext_type", reason: "interleaved extents are not accepted here; unroll them into simple extents")
            }
            for (i, extent) in list.enumerated() {
                try checker.check(extent, field: "extents[\(i)]")
            }
        }
        try validateCoverage()
        try checkNoSelfOverlap()
        let replySize = FmapWireFormat.encodedSize(of: self)
        guard replySize <= limits.maxReplyBytes else {
            throw .init(field: "fmap", reason: "encodes to \(replySize) bytes, over the \(limits.maxReplyBytes)-byte reply limit")
        }
    }

    /// Sorts the ranges by device and offset; any overlap then shows between neighbours.
    /// Runs on every layout, so the ranges are sorted in a temporary buffer, not in arrays.
    private func checkNoSelfOverlap() throws(FmapValidationError) {
        let fault = withUnsafeTemporaryAllocation(of: (position: Int, range: SimpleExtent).self,
                                                  capacity: rangeCount) { buffer -> FmapValidationError? in
            var ranges = buffer
            var count = 0
            forEachRange { range in
                ranges.initializeElement(at: count, to: (count, range))
                count += 1
            }
            defer { ranges.deinitialize() }
            ranges.sort { ($0.range.device, $0.range.offset) < ($1.range.device, $1.range.offset) }
            for k in ranges.indices.dropFirst() {
                let (previous, next) = (ranges[k - 1], ranges[k])
                guard previous.range.device == next.range.device, next.range.offset < previous.range.end else { continue }
                let (first, second) = previous.position < next.position ? (previous, next) : (next, previous)
                return FmapValidationError(field: "extents",
                                           reason: "range \(second.position) (\(second.range)) overlaps range \(first.position) of the same file")
            }
            return nil
        }
        if let fault { throw fault }
    }

    /// How many ranges the fmap claims: its simple extents or all its strips.
    private var rangeCount: Int {
        switch extents {
        case .simple(let list): return list.count
        case .interleaved(let list): return list.reduce(0) { $0 + $1.strips.count }
        }
    }

    /// Calls `body` with each claimed range, in `claimedRanges` order.
    private func forEachRange(_ body: (SimpleExtent) -> Void) {
        switch extents {
        case .simple(let list): list.forEach(body)
        case .interleaved(let list): for extent in list { extent.strips.forEach(body) }
        }
    }
}

/// The per-range checks shared by simple extents and strips. Field names are built only
/// when a check fails: validation runs on every layout, and almost every fmap passes.
private struct RangeChecker {
    let limits: FmapLimits
    let deviceSizes: [UInt64]?

    func check(_ extent: SimpleExtent, field: @autoclosure () -> String, lengthMayBeShort: Bool = false) throws(FmapValidationError) {
        guard extent.length > 0 else { throw .init(field: "\(field()).length", reason: "is zero") }
        guard extent.offset % limits.alignment == 0 else {
            throw .init(field: "\(field()).offset", reason: "\(hex(extent.offset)) is not a multiple of \(hex(limits.alignment))")
        }
        guard lengthMayBeShort || extent.length % limits.alignment == 0 else {
            throw .init(field: "\(field()).length", reason: "\(hex(extent.length)) is not a multiple of \(hex(limits.alignment))")
        }
        let deviceLimit = min(limits.maxDevices, deviceSizes?.count ?? limits.maxDevices)
        guard Int(extent.device) < deviceLimit else {
            throw .init(field: "\(field()).device", reason: "index \(extent.device) is out of range (\(deviceLimit) devices)")
        }
        let (end, overflow) = extent.offset.addingReportingOverflow(extent.length)
        guard !overflow else { throw .init(field: field(), reason: "\(extent) ends past the 64-bit offset range") }
        if let sizes = deviceSizes, end > sizes[Int(extent.device)] {
            throw .init(field: field(), reason: "\(extent) runs past the end of device \(extent.device) (\(hex(sizes[Int(extent.device)])) bytes)")
        }
    }

    func check(_ extent: InterleavedExtent, field: @autoclosure () -> String) throws(FmapValidationError) {
        guard limits.chunkSizes.contains(extent.chunkSize) else {
            let allowed = limits.chunkSizes.sorted().map(hex).joined(separator: " or ")
            throw .init(field: "\(field()).chunk_size", reason: "\(hex(extent.chunkSize)) is not \(allowed)")
        }
        guard extent.chunkSize <= UInt32.max else {
            throw .init(field: "\(field()).chunk_size", reason: "\(hex(extent.chunkSize)) does not fit the 32-bit wire field")
        }
        guard extent.byteCount > 0 else { throw .init(field: "\(field()).nbytes", reason: "is zero") }
        let nstrips = extent.strips.count
        guard (1...limits.maxStrips).contains(nstrips) else {
            throw .init(field: "\(field()).nstrips", reason: "\(nstrips) strips; allowed 1...\(limits.maxStrips)")
        }
        for (s, strip) in extent.strips.enumerated() {
            try check(strip, field: "\(field()).strips[\(s)]")
        }
    }
}

extension Fmap {
    /// Checks what every consumer needs, whatever its limits: each byte below `fileSize`
    /// resolves inside a range the fmap claims. So the extents cover the file, and each
    /// strip of an interleaved extent holds every chunk dealt to it. Log replay, which must
    /// accept any fmap famfs wrote, checks this much before serving a file.
    public func validateCoverage() throws(FmapValidationError) {
        var covered: UInt64 = 0
        switch extents {
        case .simple(let list):
            covered = list.reduce(0) { $0.addingReportingOverflow($1.length).partialValue }
        case .interleaved(let list):
            for (i, extent) in list.enumerated() {
                guard extent.chunkSize > 0, !extent.strips.isEmpty else {
                    throw .init(field: "extents[\(i)]", reason: "has no chunks or no strips to hold them")
                }
                for s in extent.strips.indices {
                    let needed = extent.bytesNeeded(onStrip: s)
                    guard extent.strips[s].length >= needed else {
                        throw .init(field: "extents[\(i)].strips[\(s)].length",
                                    reason: "\(hex(extent.strips[s].length)) is less than the \(hex(needed)) bytes its chunks need")
                    }
                }
                covered = covered.addingReportingOverflow(extent.byteCount).partialValue
            }
        }
        guard covered >= fileSize else {
            throw .init(field: "extents", reason: "cover \(hex(covered)) bytes, less than file_size \(hex(fileSize))")
        }
    }
}

extension InterleavedExtent {
    /// Device bytes strip `s` must hold: whole chunks for every chunk of the extent it carries.
    /// Saturates at `UInt64.max` for byte counts no device could hold (hostile input).
    public func bytesNeeded(onStrip s: Int) -> UInt64 {
        let n = UInt64(strips.count)
        let chunks = byteCount / chunkSize + (byteCount % chunkSize == 0 ? 0 : 1)
        let index = UInt64(s)
        guard index < chunks else { return 0 }
        let chunksOnStrip = (chunks - index + n - 1) / n
        let (bytes, overflow) = chunksOnStrip.multipliedReportingOverflow(by: chunkSize)
        return overflow ? .max : bytes
    }
}
