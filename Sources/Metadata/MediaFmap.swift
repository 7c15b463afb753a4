import Fmap
import WireBytes

/// The 416-byte fmap inside a FILE entry: up to 16 simple extents, or one interleaved extent
/// of up to 16 strips. Device indices are u64 on media and must fit the u32 of `SimpleExtent`.
///
/// The on-media interleaved extent has no byte count: it covers the whole file, so decoding
/// sets `byteCount` to the file size, and encoding requires `byteCount >= fileSize`.
enum MediaFmap {
    static let encodedSize = 416
    static let extentsOffset = 16
    static let simpleExtentSize = 24
    static let interleavedExtentSize = 400

    enum ExtentType: UInt32 {
        case simple = 0
        case interleaved = 1
    }

    /// Checks that `fmap` fits one FILE entry; EFBIG-mapped errors for what does not.
    static func checkFits(_ fmap: Fmap) throws(MediaFormatError) {
        switch fmap.extents {
        case .simple(let extents):
            guard extents.count <= FamfsMedia.maxSimpleExtents else {
                throw .tooManyExtents(field: "simple extents", count: extents.count, limit: FamfsMedia.maxSimpleExtents)
            }
        case .interleaved(let extents):
            guard extents.count <= FamfsMedia.maxInterleavedExtents else {
                throw .tooManyExtents(field: "interleaved extents", count: extents.count, limit: FamfsMedia.maxInterleavedExtents)
            }
            for extent in extents {
                guard extent.strips.count <= FamfsMedia.maxStrips else {
                    throw .tooManyExtents(field: "strips", count: extent.strips.count, limit: FamfsMedia.maxStrips)
                }
                guard extent.byteCount >= fmap.fileSize else {
                    throw .invalidField(structure: "fmap", field: "interleaved byte count", value: extent.byteCount,
                                        reason: "is less than the file size \(fmap.fileSize); famfs's interleaved extent covers the whole file")
                }
            }
        }
    }

    static func encode(_ fmap: Fmap, into writer: inout ByteWriter) throws(MediaFormatError) {
        try checkFits(fmap)
        let start = writer.count
        switch fmap.extents {
        case .simple(let extents):
            writer.write(ExtentType.simple.rawValue)
            writer.writeZeros(4)
            writer.write(UInt32(extents.count))
            writer.writeZeros(4)
            extents.forEach { write($0, into: &writer) }
        case .interleaved(let extents):
            writer.write(ExtentType.interleaved.rawValue)
            writer.writeZeros(4)
            writer.write(UInt32(extents.count))
            writer.writeZeros(4)
            for extent in extents {
                writer.write(UInt64(extent.strips.count))
                writer.write(extent.chunkSize)
                extent.strips.forEach { write($0, into: &writer) }
            }
        }
        writer.writeZeros(encodedSize - (writer.count - start))
    }

    static func decode(_ reader: inout MediaReader, fileSize: UInt64) throws(MediaFormatError) -> Fmap {
        let rawType: UInt32 = try reader.read("fmap.ext_type")
        try reader.skip(4, "fmap padding")
        let count: UInt32 = try reader.read("fmap.nextents")
        try reader.skip(4, "fmap padding")
        let extents: FmapExtents
        switch ExtentType(rawValue: rawType) {
        case .simple:
            guard count <= FamfsMedia.maxSimpleExtents else {
                throw reader.invalid("fmap.nextents", UInt64(count), "exceeds \(FamfsMedia.maxSimpleExtents)")
            }
            var list: [SimpleExtent] = []
            for i in 0..<Int(count) { list.append(try simpleExtent(&reader, field: "fmap.extents[\(i)]")) }
            try reader.skip(interleavedExtentSize - Int(count) * simpleExtentSize, "fmap unused extents")
            extents = .simple(list)
        case .interleaved:
            guard count <= FamfsMedia.maxInterleavedExtents else {
                throw reader.invalid("fmap.niext", UInt64(count), "exceeds \(FamfsMedia.maxInterleavedExtents)")
            }
            var list: [InterleavedExtent] = []
            for _ in 0..<Int(count) {
                let nstrips: UInt64 = try reader.read("fmap.ie.nstrips")
                let chunkSize: UInt64 = try reader.read("fmap.ie.chunk_size")
                guard (1...UInt64(FamfsMedia.maxStrips)).contains(nstrips) else {
                    throw reader.invalid("fmap.ie.nstrips", nstrips, "is not 1...\(FamfsMedia.maxStrips)")
                }
                guard chunkSize > 0 else { throw reader.invalid("fmap.ie.chunk_size", chunkSize, "is zero") }
                var strips: [SimpleExtent] = []
                for s in 0..<Int(nstrips) { strips.append(try simpleExtent(&reader, field: "fmap.ie.strips[\(s)]")) }
                try reader.skip((FamfsMedia.maxStrips - Int(nstrips)) * simpleExtentSize, "fmap unused strips")
                list.append(InterleavedExtent(chunkSize: chunkSize, byteCount: fileSize, strips: strips))
            }
            if count == 0 { try reader.skip(interleavedExtentSize, "fmap unused extent") }
            extents = .interleaved(list)
        case nil:
            throw reader.invalid("fmap.ext_type", UInt64(rawType), "is neither simple (0) nor interleaved (1)")
        }
        return Fmap(fileSize: fileSize, extents: extents)
    }

    private static func write(_ extent: SimpleExtent, into writer: inout ByteWriter) {
        writer.write(UInt64(extent.device))
        writer.write(extent.offset)
        writer.write(extent.length)
    }

    private static func simpleExtent(_ reader: inout MediaReader, field: String) throws(MediaFormatError) -> SimpleExtent {
        let device: UInt64 = try reader.read("\(field).devindex")
        guard let index = UInt32(exactly: device) else {
            throw reader.invalid("\(field).devindex", device, "does not fit a 32-bit device index")
        }
        return SimpleExtent(device: index, offset: try reader.read("\(field).offset"), length: try reader.read("\(field).length"))
    }
}

extension Fmap {
    /// The fmap as log replay will read it back: famfs's on-media interleaved extent covers
    /// exactly the file, so its byte count becomes the file size. Serving this form from the
    /// start keeps an fmap identical across remounts.
    public var asRecorded: Fmap {
        guard case .interleaved(var extents) = extents, extents.count == 1, extents[0].byteCount >= fileSize else { return self }
        extents[0].byteCount = fileSize
        return Fmap(fileType: fileType, fileSize: fileSize, extents: .interleaved(extents))
    }
}
