import Fmap
import Testing

/// A valid 2-strip fmap on two 64 MiB devices, to be broken one field at a time.
func stripedFmap(chunk: UInt64 = 2 * mib) -> Fmap {
    Fmap(fileSize: 8 * mib, extents: .interleaved([InterleavedExtent(
        chunkSize: chunk, byteCount: 8 * mib,
        strips: [SimpleExtent(device: 0, offset: 4 * mib, length: 4 * mib),
                 SimpleExtent(device: 1, offset: 4 * mib, length: 4 * mib)])]))
}

let twoDevices: [UInt64] = [64 * mib, 64 * mib]

func validationError(_ fmap: Fmap, limits: FmapLimits = .kernel, deviceSizes: [UInt64]? = twoDevices) -> FmapValidationError? {
    do {
        try fmap.validate(limits: limits, deviceSizes: deviceSizes)
        return nil
    } catch {
        return error
    }
}

func simpleFmap(_ extents: [SimpleExtent], fileSize: UInt64? = nil) -> Fmap {
    Fmap(fileSize: fileSize ?? extents.reduce(0) { $0 + $1.length }, extents: .simple(extents))
}

@Suite("Fmap validation against kernel limits")
struct ValidationTests {
    @Test func validFmapsPass() {
        #expect(validationError(stripedFmap()) == nil)
        #expect(validationError(stripedFmap(chunk: 4096)) == nil)
        #expect(validationError(simpleFmap([SimpleExtent(device: 1, offset: 0, length: 64 * mib)])) == nil)
    }

    @Test func noExtents() {
        #expect(validationError(simpleFmap([]))?.field == "extents")
    }

    @Test func tooManyExtents() {
        let extents = (0..<33).map { SimpleExtent(device: 0, offset: UInt64($0) * 2 * mib, length: 2 * mib) }
        let error = validationError(simpleFmap(extents), deviceSizes: [128 * mib])
        #expect(error == FmapValidationError(field: "extents", reason: "33 extents exceed the limit of 32"))
    }

    @Test func misalignedOffsetAndLength() {
        #expect(validationError(simpleFmap([SimpleExtent(device: 0, offset: 4096, length: 2 * mib)]))
                == FmapValidationError(field: "extents[0].offset", reason: "0x1000 is not a multiple of 0x200000"))
        #expect(validationError(simpleFmap([SimpleExtent(device: 0, offset: 0, length: 3 * mib)]))?.field == "extents[0].length")
    }

    @Test func chunkSizeMustBe4KiBOr2MiB() {
        #expect(validationError(stripedFmap(chunk: 1 * mib))
                == FmapValidationError(field: "extents[0].chunk_size", reason: "0x100000 is not 0x1000 or 0x200000"))
    }

    @Test func stripCountLimits() {
        var fmap = stripedFmap()
        guard case .interleaved(var extents) = fmap.extents else { return }
        extents[0].strips = []
        fmap.extents = .interleaved(extents)
        #expect(validationError(fmap)?.field == "extents[0].nstrips")
        extents[0].strips = (0..<33).map { SimpleExtent(device: 0, offset: UInt64($0) * 2 * mib, length: 2 * mib) }
        fmap.extents = .interleaved(extents)
        #expect(validationError(fmap, deviceSizes: nil)
                == FmapValidationError(field: "extents[0].nstrips", reason: "33 strips; allowed 1...32"))
    }

    @Test func deviceIndexOutOfRange() {
        #expect(validationError(simpleFmap([SimpleExtent(device: 2, offset: 0, length: 2 * mib)]))
                == FmapValidationError(field: "extents[0].device", reason: "index 2 is out of range (2 devices)"))
        #expect(validationError(simpleFmap([SimpleExtent(device: 64, offset: 0, length: 2 * mib)]), deviceSizes: nil)?
                .field == "extents[0].device")
    }

    @Test func extentsMustStayInsideTheirDevice() {
        let error = validationError(simpleFmap([SimpleExtent(device: 1, offset: 62 * mib, length: 4 * mib)]))
        #expect(error?.field == "extents[0]")
        #expect(error?.reason.contains("runs past the end of device 1") == true)
        let overflowing = simpleFmap([SimpleExtent(device: 0, offset: UInt64.max - 2 * mib + 1, length: 4 * mib)], fileSize: 1)
        #expect(validationError(overflowing, deviceSizes: nil) != nil)
    }

    @Test func extentsMustCoverTheFileSize() {
        #expect(validationError(simpleFmap([SimpleExtent(device: 0, offset: 0, length: 2 * mib)], fileSize: 2 * mib + 1))
                == FmapValidationError(field: "extents", reason: "cover 0x200000 bytes, less than file_size 0x200001"))
    }

    @Test func stripsMustHoldTheirChunks() {
        var fmap = stripedFmap()
        guard case .interleaved(var extents) = fmap.extents else { return }
        extents[0].byteCount = 10 * mib
        fmap.extents = .interleaved(extents)
        #expect(validationError(fmap)
                == FmapValidationError(field: "extents[0].strips[0].length", reason: "0x400000 is less than the 0x600000 bytes its chunks need"))
    }

    @Test("an nbytes no device could hold is refused, not an arithmetic trap (a GET_FMAP fuzz input)")
    func hostileNbytesIsRefused() {
        var fmap = stripedFmap()
        guard case .interleaved(var extents) = fmap.extents else { return }
        extents[0].byteCount = .max
        extents[0].strips = [SimpleExtent(device: 0, offset: 0, length: 2 * mib)]
        fmap.extents = .interleaved(extents)
        #expect(validationError(fmap) == FmapValidationError(
            field: "extents[0].strips[0].length", reason: "0x200000 is less than the 0xffffffffffffffff bytes its chunks need"))
        #expect(throws: FmapValidationError.self) { try fmap.validateCoverage() }
    }

    @Test func zeroNbytesAndZeroLengthsAreRefused() {
        var fmap = stripedFmap()
        guard case .interleaved(var extents) = fmap.extents else { return }
        extents[0].byteCount = 0
        fmap.extents = .interleaved(extents)
        fmap.fileSize = 0
        #expect(validationError(fmap)?.field == "extents[0].nbytes")
        #expect(validationError(simpleFmap([SimpleExtent(device: 0, offset: 0, length: 0)]))?.field == "extents[0].length")
    }

    @Test func aFileMayNotOverlapItself() {
        let error = validationError(simpleFmap([SimpleExtent(device: 0, offset: 0, length: 4 * mib),
                                                SimpleExtent(device: 0, offset: 2 * mib, length: 2 * mib)]))
        #expect(error?.reason.contains("overlaps range 0 of the same file") == true)
        // The same offsets on different devices do not overlap.
        #expect(validationError(simpleFmap([SimpleExtent(device: 0, offset: 0, length: 4 * mib),
                                            SimpleExtent(device: 1, offset: 0, length: 4 * mib)])) == nil)
    }

    @Test func replyMustFitTheKernelBuffer() {
        var limits = FmapLimits.kernel
        limits.maxExtents = 1000
        let extents = (0..<200).map { SimpleExtent(device: 0, offset: UInt64($0) * 2 * mib, length: 2 * mib) }
        #expect(validationError(simpleFmap(extents), limits: limits, deviceSizes: nil)
                == FmapValidationError(field: "fmap", reason: "encodes to 4832 bytes, over the 4096-byte reply limit"))
    }

    @Test func interleavedRefusedWhereOnlySimpleIsAccepted() {
        var limits = FmapLimits.kernel
        limits.allowsInterleaved = false
        #expect(validationError(stripedFmap(), limits: limits)?.field == "ext_type")
    }
}

@Suite("Overlap between files")
struct DeviceRangeMapTests {
    @Test func filesMayNotShareDeviceMemory() throws {
        var map = DeviceRangeMap()
        try map.claim(stripedFmap(), owner: "/a")
        let clash = simpleFmap([SimpleExtent(device: 1, offset: 6 * mib, length: 2 * mib)])
        #expect(throws: FmapValidationError.self) { try map.claim(clash, owner: "/b") }
        #expect(map.firstOverlap(with: SimpleExtent(device: 1, offset: 7 * mib, length: 1))?.owner == "/a")
        try map.claim(simpleFmap([SimpleExtent(device: 1, offset: 8 * mib, length: 2 * mib)]), owner: "/c")
        #expect(map.usedBytes(onDevice: 1) == 6 * mib)
    }

    @Test func adjacentRangesDoNotOverlap() {
        var map = DeviceRangeMap()
        map.insert(SimpleExtent(device: 0, offset: 2 * mib, length: 2 * mib), owner: "x")
        #expect(map.firstOverlap(with: SimpleExtent(device: 0, offset: 0, length: 2 * mib)) == nil)
        #expect(map.firstOverlap(with: SimpleExtent(device: 0, offset: 4 * mib, length: 2 * mib)) == nil)
        #expect(map.firstOverlap(with: SimpleExtent(device: 0, offset: 0, length: 10 * mib))?.owner == "x")
    }
}
