import Fmap

/// Where each file byte lives, computed by dealing chunks out to strips one after another —
/// an operational model written independently of the resolver's arithmetic.
struct ReferenceLayout {
    struct Byte: Equatable {
        var device: UInt32
        var offset: UInt64
        /// Bytes with the same piece number form one contiguous run (a simple extent or a chunk).
        var piece: Int
    }

    var bytes: [Byte] = []

    init(_ fmap: Fmap) {
        var piece = 0
        switch fmap.extents {
        case .simple(let extents):
            for extent in extents {
                for k in 0..<extent.length { bytes.append(Byte(device: extent.device, offset: extent.offset + k, piece: piece)) }
                piece += 1
            }
        case .interleaved(let extents):
            for extent in extents {
                var cursors = extent.strips.map(\.offset)
                var strip = 0
                var remaining = extent.byteCount
                while remaining > 0 {
                    let take = min(extent.chunkSize, remaining)
                    for k in 0..<take {
                        bytes.append(Byte(device: extent.strips[strip].device, offset: cursors[strip] + k, piece: piece))
                    }
                    cursors[strip] += extent.chunkSize
                    strip = (strip + 1) % extent.strips.count
                    remaining -= take
                    piece += 1
                }
            }
        }
        bytes = Array(bytes.prefix(Int(fmap.fileSize)))
    }
}

/// Random fmaps with tiny units, so that every byte can be checked.
struct TinyFmapGenerator {
    var rng: any RandomNumberGenerator = SystemRandomNumberGenerator()

    mutating func make() -> Fmap {
        let unit: UInt64 = [4, 8, 16].randomElement(using: &rng)!
        if Bool.random(using: &rng) {
            let extents = (0..<Int.random(in: 1...6, using: &rng)).map { i in
                SimpleExtent(device: UInt32.random(in: 0...3, using: &rng),
                             offset: UInt64(i) * 4096 + unit * UInt64.random(in: 0...8, using: &rng),
                             length: unit * UInt64.random(in: 1...12, using: &rng))
            }
            let total = extents.reduce(0) { $0 + $1.length }
            return Fmap(fileSize: UInt64.random(in: 1...total, using: &rng), extents: .simple(extents))
        }
        let extents = (0..<Int.random(in: 1...3, using: &rng)).map { e in
            let nstrips = Int.random(in: 1...5, using: &rng)
            let chunk = unit * UInt64.random(in: 1...3, using: &rng)
            let byteCount = UInt64.random(in: 1...(chunk * UInt64(nstrips) * 4), using: &rng)
            let stripLength = (byteCount / (chunk * UInt64(nstrips)) + 1) * chunk
            let strips = (0..<nstrips).map { s in
                SimpleExtent(device: UInt32(s % 4), offset: UInt64(e * 100_000 + s * 10_000), length: stripLength)
            }
            return InterleavedExtent(chunkSize: chunk, byteCount: byteCount, strips: strips)
        }
        let total = extents.reduce(0) { $0 + $1.byteCount }
        // Files may end inside the last extent, as the kernel allows.
        let lastStart = total - extents.last!.byteCount
        return Fmap(fileSize: UInt64.random(in: (lastStart + 1)...total, using: &rng), extents: .interleaved(extents))
    }
}
