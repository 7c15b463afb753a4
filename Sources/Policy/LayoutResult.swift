import Fmap

/// The fmap a layout hook returned, as the C side flattened it (see `clua_call` in CLua.h).
enum LayoutResult {
    /// Builds the fmap; the C side has already checked the shape and that every value is a
    /// non-negative integer with `dev` below 2³².
    static func decode(_ values: UnsafeBufferPointer<Int64>, fileSize: UInt64) -> Fmap {
        var reader = Reader(values: values)
        let interleaved = reader.next() == 1
        let count = Int(reader.next())
        if !interleaved {
            var extents: [SimpleExtent] = []
            extents.reserveCapacity(count)
            for _ in 0..<count { extents.append(reader.range()) }
            return Fmap(fileSize: fileSize, extents: .simple(extents))
        }
        var extents: [InterleavedExtent] = []
        extents.reserveCapacity(count)
        for _ in 0..<count {
            let nstrips = Int(reader.next())
            let chunkSize = UInt64(reader.next())
            let byteCount = UInt64(reader.next())
            var strips: [SimpleExtent] = []
            strips.reserveCapacity(nstrips)
            for _ in 0..<nstrips { strips.append(reader.range()) }
            extents.append(InterleavedExtent(chunkSize: chunkSize, byteCount: byteCount, strips: strips))
        }
        return Fmap(fileSize: fileSize, extents: .interleaved(extents))
    }

    /// Decodes a layout result and checks it against `limits` and the device sizes; throws
    /// the first fault, naming the field. `markAllocations` checks that the call allocated it.
    static func checked(_ values: UnsafeBufferPointer<Int64>, fileSize: UInt64, limits: FmapLimits,
                        deviceSizes: [UInt64]) throws(FmapValidationError) -> Fmap {
        let fmap = decode(values, fileSize: fileSize)
        try fmap.validate(limits: limits, deviceSizes: deviceSizes)
        return fmap
    }

    /// Sets `used[i]` for each allocation holding a range of `fmap`; returns the fault naming
    /// the first range that lies outside every allocation of the call, if one does. Ranges
    /// mostly come in the order they were allocated, so each search starts after the last find.
    static func markAllocations(usedBy fmap: Fmap, in allocations: CallAllocations,
                                used: UnsafeMutableBufferPointer<Bool>) -> FmapValidationError? {
        var next = 0
        func mark(_ range: SimpleExtent) -> Bool {
            for k in 0..<allocations.count {
                let i = next + k < allocations.count ? next + k : next + k - allocations.count
                if allocations[i].contains(range) {
                    used[i] = true
                    next = i + 1
                    return true
                }
            }
            return false
        }
        func fault(_ range: SimpleExtent, field: String) -> FmapValidationError {
            FmapValidationError(field: field, reason: "\(range) was not allocated by this layout call (use alloc)")
        }
        switch fmap.extents {
        case .simple(let extents):
            for (i, extent) in extents.enumerated() where !mark(extent) { return fault(extent, field: "extents[\(i)]") }
        case .interleaved(let extents):
            for (i, extent) in extents.enumerated() {
                for (s, strip) in extent.strips.enumerated() where !mark(strip) {
                    return fault(strip, field: "extents[\(i)].strips[\(s)]")
                }
            }
        }
        return nil
    }

    private struct Reader {
        let values: UnsafeBufferPointer<Int64>
        var position = 0

        mutating func next() -> Int64 {
            defer { position += 1 }
            return position < values.count ? values[position] : 0
        }

        mutating func range() -> SimpleExtent {
            SimpleExtent(device: UInt32(truncatingIfNeeded: next()), offset: UInt64(next()), length: UInt64(next()))
        }
    }
}

extension SimpleExtent {
    /// Whether every byte of `other` lies inside this range.
    func contains(_ other: SimpleExtent) -> Bool {
        device == other.device && offset <= other.offset && other.end <= end
    }
}
