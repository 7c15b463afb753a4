extension Fmap {
    /// The same mapping as uniform simple extents, one per chunk, for consumers that accept
    /// simple extents only. Chunk `c` of an interleaved extent becomes
    /// `{ strip[c % n].device, strip[c % n].offset + (c / n) * C, min(C, bytes left) }`;
    /// only the file's last extent can be shorter than a chunk. Simple fmaps are returned as they are.
    public func unrolled() -> Fmap {
        guard case .interleaved(let extents) = extents else { return self }
        var simple: [SimpleExtent] = []
        var fileStart: UInt64 = 0
        for extent in extents where fileStart < fileSize {
            let bytes = min(extent.byteCount, fileSize - fileStart)
            let n = UInt64(extent.strips.count)
            var chunk: UInt64 = 0
            while chunk &* extent.chunkSize < bytes {
                let strip = extent.strips[Int(chunk % n)]
                simple.append(SimpleExtent(device: strip.device,
                                           offset: strip.offset + (chunk / n) * extent.chunkSize,
                                           length: min(extent.chunkSize, bytes - chunk * extent.chunkSize)))
                chunk += 1
            }
            fileStart += extent.byteCount
        }
        return Fmap(fileType: fileType, fileSize: fileSize, extents: .simple(simple))
    }
}
