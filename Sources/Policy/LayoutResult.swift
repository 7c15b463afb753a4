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

    /// Decodes a layout result and checks it against `limits`, the device sizes, and the
    /// memory the call allocated; throws the first fault, naming the field.
    static func checked(_ values: UnsafeBufferPointer<Int64>, fileSize: UInt64, limits: FmapLimits,
                        deviceSizes: [UInt64], allocations: [SimpleExtent]) throws(FmapValidationError) -> Fmap {
        let fmap = decode(values, fileSize: fileSize)
        try fmap.validate(limits: limits, deviceSizes: deviceSizes)
        try checkOwnership(of: fmap, allocations: allocations)
        return fmap
    }

    /// Throws naming the first range of `fmap` that lies outside every allocation of the call.
    static func checkOwnership(of fmap: Fmap, allocations: [SimpleExtent]) throws(FmapValidationError) {
        func check(_ range: SimpleExtent, field: @autoclosure () -> String) throws(FmapValidationError) {
            guard !allocations.contains(where: { $0.contains(range) }) else { return }
            throw FmapValidationError(field: field(), reason: "\(range) was not allocated by this layout call (use alloc)")
        }
        switch fmap.extents {
        case .simple(let extents):
            for (i, extent) in extents.enumerated() { try check(extent, field: "extents[\(i)]") }
        case .interleaved(let extents):
            for (i, extent) in extents.enumerated() {
                for (s, strip) in extent.strips.enumerated() { try check(strip, field: "extents[\(i)].strips[\(s)]") }
            }
        }
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

    /// Whether the two ranges share a byte.
    func overlaps(_ other: SimpleExtent) -> Bool {
        device == other.device && offset < other.end && other.offset < end
    }
}
