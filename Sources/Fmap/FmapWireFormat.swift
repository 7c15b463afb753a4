import WireBytes

/// The GET_FMAP reply body: `fuse_famfs_fmap_header` (32 bytes), then the extents.
///
/// Simple extents are `fuse_famfs_simple_ext` (24 bytes); each interleaved extent is a
/// `fuse_famfs_iext` (24 bytes) followed by its strips as simple extents.
public enum FmapWireFormat {
    public static let headerSize = 32
    public static let simpleExtentSize = 24
    public static let interleavedHeaderSize = 24
    public static let version: UInt16 = 1

    enum ExtentType: UInt32 {
        case simple = 0
        case interleaved = 1
    }

    /// Bytes `encode(fmap)` produces.
    public static func encodedSize(of fmap: Fmap) -> Int {
        switch fmap.extents {
        case .simple(let extents):
            return headerSize + extents.count * simpleExtentSize
        case .interleaved(let extents):
            return extents.reduce(headerSize) { $0 + interleavedHeaderSize + $1.strips.count * simpleExtentSize }
        }
    }

    /// Encodes a validated fmap (chunk sizes must fit 32 bits, which validation checks).
    public static func encode(_ fmap: Fmap) -> [UInt8] {
        var out = ByteWriter(capacity: encodedSize(of: fmap))
        out.write(fmap.fileType.rawValue)
        out.write(UInt8(0))
        out.write(version)
        switch fmap.extents {
        case .simple(let extents):
            out.write(ExtentType.simple.rawValue)
            out.write(UInt32(extents.count))
        case .interleaved(let extents):
            out.write(ExtentType.interleaved.rawValue)
            out.write(UInt32(extents.count))
        }
        out.write(UInt32(0))
        out.write(fmap.fileSize)
        out.write(UInt64(0))
        switch fmap.extents {
        case .simple(let extents):
            extents.forEach { write($0, to: &out) }
        case .interleaved(let extents):
            for extent in extents {
                precondition(extent.chunkSize <= UInt32.max, "encode requires a validated fmap")
                out.write(UInt32(extent.strips.count))
                out.write(UInt32(extent.chunkSize))
                out.write(extent.byteCount)
                out.write(UInt64(0))
                extent.strips.forEach { write($0, to: &out) }
            }
        }
        return out.bytes
    }

    /// Decodes a reply body. Every count is checked against the bytes present before it is
    /// used, and bytes left over after the last extent are an error.
    public static func decode(_ bytes: ArraySlice<UInt8>) throws(WireDecodingError) -> Fmap {
        var input = ByteReader(bytes)
        let rawFileType: UInt8 = try input.read(field: "fmap header.file_type")
        guard let fileType = FamfsFileType(rawValue: rawFileType) else {
            throw .invalidValue(field: "fmap header.file_type", value: UInt64(rawFileType), reason: "expected 0, 1 or 2")
        }
        try input.skip(1, field: "fmap header.reserved")
        let fmapVersion: UInt16 = try input.read(field: "fmap header.fmap_version")
        guard fmapVersion == version else {
            throw .invalidValue(field: "fmap header.fmap_version", value: UInt64(fmapVersion), reason: "expected \(version)")
        }
        let rawExtentType: UInt32 = try input.read(field: "fmap header.ext_type")
        guard let extentType = ExtentType(rawValue: rawExtentType) else {
            throw .invalidValue(field: "fmap header.ext_type", value: UInt64(rawExtentType), reason: "expected 0 (simple) or 1 (interleaved)")
        }
        let count: UInt32 = try input.read(field: "fmap header.nextents")
        try input.skip(4, field: "fmap header.reserved0")
        let fileSize: UInt64 = try input.read(field: "fmap header.file_size")
        try input.skip(8, field: "fmap header.reserved1")

        let extents: FmapExtents
        switch extentType {
        case .simple:
            try checkCount(UInt64(count), elementSize: simpleExtentSize, in: input, field: "fmap header.nextents")
            var list: [SimpleExtent] = []
            list.reserveCapacity(Int(count))
            for i in 0..<Int(count) { list.append(try readSimple(&input, field: "extents[\(i)]")) }
            extents = .simple(list)
        case .interleaved:
            try checkCount(UInt64(count), elementSize: interleavedHeaderSize, in: input, field: "fmap header.nextents")
            var list: [InterleavedExtent] = []
            for i in 0..<Int(count) {
                let field = "extents[\(i)]"
                let nstrips: UInt32 = try input.read(field: "\(field).ie_nstrips")
                let chunkSize: UInt32 = try input.read(field: "\(field).ie_chunk_size")
                let byteCount: UInt64 = try input.read(field: "\(field).ie_nbytes")
                try input.skip(8, field: "\(field).reserved")
                try checkCount(UInt64(nstrips), elementSize: simpleExtentSize, in: input, field: "\(field).ie_nstrips")
                var strips: [SimpleExtent] = []
                strips.reserveCapacity(Int(nstrips))
                for s in 0..<Int(nstrips) { strips.append(try readSimple(&input, field: "\(field).strips[\(s)]")) }
                list.append(InterleavedExtent(chunkSize: UInt64(chunkSize), byteCount: byteCount, strips: strips))
            }
            extents = .interleaved(list)
        }
        guard input.remainingCount == 0 else {
            throw .invalidLength(field: "fmap", value: UInt64(bytes.count),
                                 reason: "\(input.remainingCount) bytes follow the last extent")
        }
        return Fmap(fileType: fileType, fileSize: fileSize, extents: extents)
    }

    private static func write(_ extent: SimpleExtent, to out: inout ByteWriter) {
        out.write(extent.device)
        out.write(UInt32(0))
        out.write(extent.offset)
        out.write(extent.length)
    }

    private static func readSimple(_ input: inout ByteReader, field: String) throws(WireDecodingError) -> SimpleExtent {
        let device: UInt32 = try input.read(field: "\(field).se_devindex")
        try input.skip(4, field: "\(field).reserved")
        let offset: UInt64 = try input.read(field: "\(field).se_offset")
        let length: UInt64 = try input.read(field: "\(field).se_len")
        return SimpleExtent(device: device, offset: offset, length: length)
    }

    /// Refuses a count whose elements could not fit in what is left, before allocating for it.
    private static func checkCount(_ count: UInt64, elementSize: Int, in input: ByteReader, field: String) throws(WireDecodingError) {
        guard count <= UInt64(input.remainingCount / elementSize) else {
            throw .invalidLength(field: field, value: count,
                                 reason: "\(count) elements of \(elementSize) bytes cannot fit in the \(input.remainingCount) bytes left")
        }
    }
}
