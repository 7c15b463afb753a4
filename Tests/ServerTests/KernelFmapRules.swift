/// The kernel's view of a GET_FMAP reply, decoded and checked with the rules the famfs-FUSE
/// series applies before it maps a file. Written apart from the daemon's `FmapWireFormat`
/// (raw byte loads, its own types) so that each can catch the other's mistakes.
struct KernelFmap: Equatable {
    struct Piece: Equatable {
        var device: UInt32
        var offset: UInt64
        var length: UInt64
    }

    enum Extent: Equatable {
        case simple(Piece)
        case interleaved(chunk: UInt64, nbytes: UInt64, strips: [Piece])
    }

    var fileType: UInt8
    var fileSize: UInt64
    var extents: [Extent]

    struct Rules {
        var maxExtents = 32
        var maxStrips = 32
        var maxReplyBytes = 4096
        var deviceLimit: UInt32
        var simpleOnly: Bool
        var chunkMustBe2MiBAligned: Bool

        static let posted = Rules(deviceLimit: 1, simpleOnly: false, chunkMustBe2MiBAligned: true)
        static let push = Rules(maxExtents: 169, deviceLimit: 64, simpleOnly: true, chunkMustBe2MiBAligned: true)
    }

    struct Rejected: Error, CustomStringConvertible {
        var description: String
    }

    static let mib2: UInt64 = 2 << 20

    /// Decodes `bytes` as the kernel would, throwing the first rule it breaks.
    init(reply bytes: [UInt8], rules: Rules, lastExtentMayBeShort: Bool = false) throws {
        func load<T: FixedWidthInteger>(_ offset: Int, _: T.Type) throws -> T {
            guard offset >= 0, offset + MemoryLayout<T>.size <= bytes.count else {
                throw Rejected(description: "array runs past the \(bytes.count)-byte reply at \(offset)")
            }
            var value: T = 0
            for i in 0..<MemoryLayout<T>.size { value |= T(bytes[offset + i]) << (8 * i) }
            return value
        }
        guard bytes.count >= 32, bytes.count <= rules.maxReplyBytes else {
            throw Rejected(description: "reply of \(bytes.count) bytes is outside 32...\(rules.maxReplyBytes)")
        }
        fileType = bytes[0]
        let version = try load(2, UInt16.self)
        guard version == 1 else { throw Rejected(description: "fmap_version \(version)") }
        let extType = try load(4, UInt32.self)
        let count = try load(8, UInt32.self)
        fileSize = try load(16, UInt64.self)
        guard (1...UInt32(rules.maxExtents)).contains(count) else { throw Rejected(description: "nextents \(count)") }
        guard extType == 0 || (extType == 1 && !rules.simpleOnly) else { throw Rejected(description: "ext_type \(extType)") }

        func piece(at offset: Int) throws -> Piece {
            let p = Piece(device: try load(offset, UInt32.self), offset: try load(offset + 8, UInt64.self),
                          length: try load(offset + 16, UInt64.self))
            guard p.device < rules.deviceLimit else { throw Rejected(description: "device index \(p.device)") }
            guard p.offset % Self.mib2 == 0 else { throw Rejected(description: "offset \(p.offset) not 2 MiB aligned") }
            return p
        }

        var cursor = 32
        var covered: UInt64 = 0
        extents = []
        for index in 0..<Int(count) {
            if extType == 0 {
                let p = try piece(at: cursor)
                let isLast = index == Int(count) - 1
                guard p.length % Self.mib2 == 0 || (isLast && lastExtentMayBeShort) else {
                    throw Rejected(description: "length \(p.length) not 2 MiB aligned")
                }
                extents.append(.simple(p))
                covered += p.length
                cursor += 24
            } else {
                let nstrips = try load(cursor, UInt32.self)
                let chunk = UInt64(try load(cursor + 4, UInt32.self))
                let nbytes = try load(cursor + 8, UInt64.self)
                guard (1...UInt32(rules.maxStrips)).contains(nstrips) else { throw Rejected(description: "nstrips \(nstrips)") }
                guard chunk > 0, !rules.chunkMustBe2MiBAligned || chunk % Self.mib2 == 0 else {
                    throw Rejected(description: "chunk_size \(chunk)")
                }
                guard nbytes != 0 else { throw Rejected(description: "ie_nbytes 0") }
                cursor += 24
                var strips: [Piece] = []
                for _ in 0..<nstrips {
                    let p = try piece(at: cursor)
                    guard p.length % Self.mib2 == 0 else { throw Rejected(description: "strip length \(p.length)") }
                    strips.append(p)
                    cursor += 24
                }
                extents.append(.interleaved(chunk: chunk, nbytes: nbytes, strips: strips))
                covered += nbytes
            }
        }
        guard cursor <= bytes.count else { throw Rejected(description: "extents run past the reply") }
        guard covered >= fileSize else { throw Rejected(description: "extents cover \(covered) < file_size \(fileSize)") }
    }

    /// The device indices the fmap uses, in the order the kernel meets them.
    var devices: [UInt32] {
        var seen: [UInt32] = []
        for extent in extents {
            let pieces: [Piece]
            switch extent {
            case .simple(let p): pieces = [p]
            case .interleaved(_, _, let strips): pieces = strips
            }
            for piece in pieces where !seen.contains(piece.device) { seen.append(piece.device) }
        }
        return seen
    }

    /// Where file byte `offset` lives, walking extents in order as the kernel does.
    func resolve(_ offset: UInt64) -> (device: UInt32, offset: UInt64)? {
        guard offset < fileSize else { return nil }
        var start: UInt64 = 0
        for extent in extents {
            switch extent {
            case .simple(let p):
                if offset < start + p.length { return (p.device, p.offset + (offset - start)) }
                start += p.length
            case .interleaved(let chunk, let nbytes, let strips):
                let size = min(nbytes, fileSize)
                if offset < start + size {
                    let local = offset - start
                    let c = local / chunk
                    let strip = strips[Int(c % UInt64(strips.count))]
                    return (strip.device, strip.offset + (c / UInt64(strips.count)) * chunk + local % chunk)
                }
                start += size
            }
        }
        return nil
    }
}
