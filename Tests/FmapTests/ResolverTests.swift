import Fmap
import Testing

let mib: UInt64 = 1 << 20

@Suite("Offset resolution")
struct ResolverTests {
    @Test("the reference's worked example: 4 strips, 2 MiB chunks, offset 15 MiB is 3 MiB into strip 3")
    func workedExample() throws {
        let strips = (0..<4).map { SimpleExtent(device: UInt32($0), offset: UInt64($0 + 1) * 64 * mib, length: 8 * mib) }
        let fmap = Fmap(fileSize: 32 * mib,
                        extents: .interleaved([InterleavedExtent(chunkSize: 2 * mib, byteCount: 32 * mib, strips: strips)]))
        try fmap.validate(limits: .kernel)
        let location = try #require(FmapResolver(fmap).resolve(15 * mib))
        #expect(location == ResolvedLocation(device: 3, deviceOffset: strips[3].offset + 3 * mib, contiguousBytes: 1 * mib))
    }

    @Test("every byte of random fmaps resolves where the dealt-out reference puts it")
    func matchesBruteForceReference() throws {
        var generator = TinyFmapGenerator()
        for _ in 0..<400 {
            let fmap = generator.make()
            let reference = ReferenceLayout(fmap)
            let resolver = FmapResolver(fmap)
            #expect(reference.bytes.count == Int(fmap.fileSize))
            for offset in 0..<reference.bytes.count {
                let expected = reference.bytes[offset]
                let location = try #require(resolver.resolve(UInt64(offset)), "offset \(offset) of \(fmap)")
                #expect(location.device == expected.device && location.deviceOffset == expected.offset,
                        "offset \(offset) of \(fmap)")
                // The run reported contiguous is exactly the rest of this byte's piece.
                let runEnd = reference.bytes[offset...].firstIndex { $0.piece != expected.piece } ?? reference.bytes.count
                #expect(location.contiguousBytes == UInt64(runEnd - offset), "run at \(offset) of \(fmap)")
            }
            #expect(resolver.resolve(fmap.fileSize) == nil)
        }
    }

    @Test("unequal simple extents are found by search, equal ones by division, with the same answers")
    func searchAndDivisionAgree() throws {
        let unequal = Fmap(fileSize: 10 * mib, extents: .simple([
            SimpleExtent(device: 0, offset: 0, length: 2 * mib),
            SimpleExtent(device: 1, offset: 8 * mib, length: 6 * mib),
            SimpleExtent(device: 0, offset: 4 * mib, length: 2 * mib),
        ]))
        let resolver = FmapResolver(unequal)
        #expect(resolver.resolve(0) == ResolvedLocation(device: 0, deviceOffset: 0, contiguousBytes: 2 * mib))
        #expect(resolver.resolve(2 * mib + 5) == ResolvedLocation(device: 1, deviceOffset: 8 * mib + 5, contiguousBytes: 6 * mib - 5))
        #expect(resolver.resolve(9 * mib) == ResolvedLocation(device: 0, deviceOffset: 5 * mib, contiguousBytes: 1 * mib))
        #expect(resolver.resolve(10 * mib) == nil)
    }

    @Test("unrolled fmaps resolve every byte as the interleaved original does")
    func unrolledResolvesIdentically() throws {
        var generator = TinyFmapGenerator()
        for _ in 0..<300 {
            let fmap = generator.make()
            let unrolled = fmap.unrolled()
            guard case .simple(let extents) = unrolled.extents else {
                Issue.record("unrolled fmap is not simple")
                continue
            }
            if case .interleaved(let original) = fmap.extents, original.count == 1 {
                // Uniform chunk-size extents, only the last may be shorter.
                #expect(extents.dropLast().allSatisfy { $0.length == original[0].chunkSize })
            }
            #expect(ReferenceLayout(unrolled).bytes == ReferenceLayout(fmap).bytes)
            let a = FmapResolver(fmap), b = FmapResolver(unrolled)
            for offset in 0..<fmap.fileSize {
                #expect(a.resolve(offset)?.deviceOffset == b.resolve(offset)?.deviceOffset)
            }
        }
    }

    @Test func unrollingAStripedFileGivesChunkExtentsInRoundRobinOrder() throws {
        let strips = [SimpleExtent(device: 0, offset: 10 * mib, length: 4 * mib),
                      SimpleExtent(device: 1, offset: 20 * mib, length: 4 * mib)]
        let fmap = Fmap(fileSize: 7 * mib,
                        extents: .interleaved([InterleavedExtent(chunkSize: 2 * mib, byteCount: 8 * mib, strips: strips)]))
        let unrolled = fmap.unrolled()
        #expect(unrolled.extents == .simple([
            SimpleExtent(device: 0, offset: 10 * mib, length: 2 * mib),
            SimpleExtent(device: 1, offset: 20 * mib, length: 2 * mib),
            SimpleExtent(device: 0, offset: 12 * mib, length: 2 * mib),
            SimpleExtent(device: 1, offset: 22 * mib, length: 1 * mib),
        ]))
        var pushLimits = FmapLimits.kernel
        pushLimits.allowsInterleaved = false
        pushLimits.allowsShortLastExtent = true
        try unrolled.validate(limits: pushLimits)
        #expect(throws: FmapValidationError.self) { try unrolled.validate(limits: .kernel) }
    }
}
