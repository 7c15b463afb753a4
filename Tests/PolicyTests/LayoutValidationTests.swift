import Fmap
import Policy
import Testing

/// A layout result that is malformed or breaks the fmap rules fails its call naming the
/// field, and releases everything the call allocated.
@Suite struct LayoutValidationTests {
    @Test func nonTableReturnIsABadReturn() throws {
        try expectHostileLayout("    return 42", kind: .badReturn, contains: "layout must return an fmap table, got number")
    }

    @Test func missingReturnIsABadReturn() throws {
        try expectHostileLayout("    alloc(1, 1)\n    return", kind: .badReturn, contains: "got nil")
    }

    @Test func unknownExtentTypeIsABadReturn() throws {
        try expectHostileLayout("    return { ext_type = \"striped\", extents = {} }", kind: .badReturn,
                                contains: "ext_type: expected \"simple\" or \"interleaved\", got striped")
    }

    @Test func stringWhereAnIntegerBelongsIsABadReturn() throws {
        let error = try expectHostileLayout(
            "    local e = alloc(0, 1)\n    return { ext_type = \"simple\", extents = { { dev = \"0\", offset = e.offset, length = e.length } } }",
            kind: .badReturn, contains: "extents[0].dev: expected an integer, got string")
        #expect(error?.field == "extents[0].dev")
    }

    @Test func fractionalAndNegativeNumbersAreBadReturns() throws {
        try expectHostileLayout("    return { ext_type = \"simple\", extents = { { dev = 0, offset = 0.5, length = 1 } } }",
                                kind: .badReturn, contains: "extents[0].offset: expected an integer, got 0.5")
        try expectHostileLayout("    return { ext_type = \"simple\", extents = { { dev = 0, offset = -2, length = 1 } } }",
                                kind: .badReturn, contains: "extents[0].offset: -2 is negative")
    }

    @Test func nstripsMustMatchTheStrips() throws {
        let hostile = """
            local s = alloc(0, 2097152)
            return { ext_type = "interleaved", extents = { { nstrips = 2, chunk_size = 2097152, nbytes = 2097152, strips = { s } } } }
        """
        try expectHostileLayout(hostile, kind: .badReturn, contains: "extents[0].nstrips: does not match the 1 strips given")
    }

    @Test func misalignedOffsetFailsValidation() throws {
        let hostile = """
            local e = alloc(1, 4194304)
            return { ext_type = "interleaved", extents = { { chunk_size = 2097152, nbytes = 2097152,
              strips = { { dev = 1, offset = e.offset + 4096, length = 2097152 } } } } }
        """
        let error = try expectHostileLayout(hostile, kind: .invalidFmap,
                                            contains: "layout: extents[0].strips[0].offset: 0x1000 is not a multiple of 0x200000")
        #expect(error?.field == "extents[0].strips[0].offset")
        #expect(error?.line == 2)
    }

    @Test func overlappingExtentsFailValidation() throws {
        let hostile = """
            local e = alloc(0, 4194304)
            return { ext_type = "simple", extents = { e, e } }
        """
        try expectHostileLayout(hostile, kind: .invalidFmap, contains: "overlaps")
    }

    @Test func outOfBoundsExtentFailsValidation() throws {
        let hostile = "    return { ext_type = \"simple\", extents = { { dev = 0, offset = 1 << 40, length = 2097152 } } }"
        try expectHostileLayout(hostile, kind: .invalidFmap, contains: "runs past the end of device 0")
    }

    @Test func deviceIndexOutOfRangeFailsValidation() throws {
        let hostile = "    return { ext_type = \"simple\", extents = { { dev = 9, offset = 0, length = 2097152 } } }"
        try expectHostileLayout(hostile, kind: .invalidFmap, contains: "extents[0].device: index 9 is out of range (4 devices)")
    }

    @Test func tooManyExtentsFailValidation() throws {
        let hostile = """
            local list = {}
            for i = 1, 33 do list[i] = alloc(i % 4, 2097152) end
            return { ext_type = "simple", extents = list }
        """
        try expectHostileLayout(hostile, kind: .invalidFmap, contains: "33 extents exceed the limit of 32")
    }

    @Test func memoryNotAllocatedByTheCallIsRefused() throws {
        let hostile = "    return { ext_type = \"simple\", extents = { { dev = 2, offset = 0, length = 2097152 } } }"
        let error = try expectHostileLayout(hostile, kind: .invalidFmap,
                                            contains: "extents[0]: dev 2 [0x0, +0x200000) was not allocated by this layout call")
        #expect(error?.field == "extents[0]")
    }

    @Test func allocOnAMissingDeviceIsARuntimeError() throws {
        try expectHostileLayout("    alloc(7, 1) --here", kind: .runtime,
                                contains: "alloc: device index 7 is out of range (4 devices, indices 0...3)", lineMarker: "--here")
        try expectHostileLayout("    alloc(0, 0) --here", kind: .runtime, contains: "alloc: bytes must be positive, got 0",
                                lineMarker: "--here")
        try expectHostileLayout("    alloc(0, 1, 3000) --here", kind: .runtime, contains: "alloc: align 3000 is not a power of two",
                                lineMarker: "--here")
    }

    @Test func exhaustedDeviceIsAnAllocationFailureWithENOSPC() throws {
        let error = try expectHostileLayout("    alloc(0, 1 << 40) --here", kind: .allocation,
                                            contains: "alloc: no contiguous free run of 1099511627776 bytes on device 0",
                                            lineMarker: "--here")
        #expect(error?.errno == 28)
    }

    @Test func allocationFailureCaughtByTheScriptIsNotFatal() throws {
        let fixture = try PolicyFixture(["policy.lua": """
            function layout(file, devices)
              local ok = pcall(alloc, 0, 1 << 40)
              assert(not ok)
              return { ext_type = "simple", extents = { alloc(1, file.size) } }
            end
            """])
        let fmap = try fixture.runtime().layout(for: FileFacts(path: "/f", size: 3 << 20), allocator: fixture.allocator())
        #expect(fmap.extents == .simple([SimpleExtent(device: 1, offset: 0, length: 4 << 20)]))
    }

    @Test func allocationsTheFmapDoesNotUseAreReleased() throws {
        let fixture = try PolicyFixture(["policy.lua": """
            function layout(file, devices)
              alloc(3, 8 * 1048576)
              return { ext_type = "simple", extents = { alloc(0, file.size) } }
            end
            """])
        let allocator = fixture.allocator()
        _ = try fixture.runtime().layout(for: FileFacts(path: "/f", size: 2 << 20), allocator: allocator)
        #expect(allocator.freeBytes(device: 3) == 1 << 30)
        #expect(allocator.freeBytes(device: 0) == (1 << 30) - (2 << 20))
    }

    /// `deal(devices, nchunks, chunk_size)` returning the fmap, through each strip allocator.
    static let dealers = [
        "alloc_strips": """
            local function deal(list, nchunks, chunk)
              local strips = alloc_strips(list, nchunks, chunk)
              return { ext_type = "interleaved", extents = { { chunk_size = chunk, nbytes = nchunks * chunk, strips = strips } } }
            end
            """,
        "alloc_interleaved": "local deal = alloc_interleaved",
    ]

    @Test(arguments: ["alloc_strips", "alloc_interleaved"])
    func stripAllocationDealsTheChunksRoundRobinOverTheDevices(function: String) throws {
        let fixture = try PolicyFixture(["policy.lua": Self.dealers[function]! + """

            function layout(file, devices)
              local before = devices[3].free
              local fmap = deal({ devices[3], 0, devices[2] }, file.size // 2097152, 2097152)
              assert(devices[3].free == before - fmap.extents[1].strips[1].length, "free follows the allocation")
              return fmap
            end
            """])
        let runtime = try fixture.runtime()
        let allocator = fixture.allocator()
        // 7 chunks over three devices: the first strip holds chunks 0, 3 and 6.
        let seven = try runtime.layout(for: FileFacts(path: "/seven", size: 14 << 20), allocator: allocator)
        #expect(seven.extents == .interleaved([InterleavedExtent(chunkSize: 2 << 20, byteCount: 14 << 20, strips: [
            SimpleExtent(device: 2, offset: 0, length: 6 << 20), SimpleExtent(device: 0, offset: 0, length: 4 << 20),
            SimpleExtent(device: 1, offset: 0, length: 4 << 20),
        ])]))
        // Fewer chunks than devices: one strip per chunk.
        let two = try runtime.layout(for: FileFacts(path: "/two", size: 4 << 20), allocator: allocator)
        guard case .interleaved(let extents) = two.extents else { Issue.record("not interleaved"); return }
        #expect(extents[0].strips.map(\.device) == [2, 0])
    }

    @Test(arguments: ["alloc_strips", "alloc_interleaved"])
    func stripAllocationFailsLikeAllocAndReleasesWhatItAllocated(function: String) throws {
        try expectHostileLayout("    \(function)({}, 1, 2097152) --here", kind: .runtime,
                                contains: "\(function): the device list is empty", lineMarker: "--here")
        try expectHostileLayout("    \(function)({ 0, \"x\" }, 2, 2097152) --here", kind: .runtime,
                                contains: "\(function): device must be an index or a device table, got string", lineMarker: "--here")
        try expectHostileLayout("    \(function)({ 0 }, 0, 2097152) --here", kind: .runtime,
                                contains: "\(function): nchunks and chunk_size must be positive", lineMarker: "--here")
        try expectHostileLayout("    \(function)({ 0 }, 1, \"2M\") --here", kind: .runtime,
                                contains: "\(function): chunk_size must be an integer, got string", lineMarker: "--here")
        try expectHostileLayout("    \(function)({ 0, 9 }, 2, 2097152) --here", kind: .runtime,
                                contains: "alloc: device index 9 is out of range", lineMarker: "--here")
        // Device 0's strip is allocated, device 1 is full: ENOSPC, and device 0's strip is released.
        let error = try expectHostileLayout("    alloc(1, 1 << 30)\n    \(function)({ 0, 1 }, 2, 2097152) --here",
                                            kind: .allocation, contains: "alloc: no contiguous free run", lineMarker: "--here")
        #expect(error?.errno == 28)
    }

    @Test func anFmapOfAllocInterleavedReadsAsItsTableForm() throws {
        let fixture = try PolicyFixture(["policy.lua": """
            function layout(file, devices)
              local fmap = alloc_interleaved({ 1, 0 }, 3, 2097152)
              local extent = fmap.extents[1]
              assert(fmap.ext_type == "interleaved" and extent.nstrips == 2 and #extent.strips == 2, "reads as the table form")
              assert(extent.nbytes == 3 * 2097152 and extent.strips[1].dev == 1 and extent.strips[1].length == 2 * 2097152)
              local fields = 0
              for key in pairs(fmap) do fields = fields + 1 end
              assert(fields == 2, "pairs sees ext_type and extents")
              assert(getmetatable(fmap) == "famfs.fmap", "the metatable is hidden")
              return fmap
            end
            """])
        let fmap = try fixture.runtime().layout(for: FileFacts(path: "/f", size: 6 << 20), allocator: fixture.allocator())
        #expect(fmap.claimedRanges.map(\.device) == [1, 0])
    }

    @Test func anFmapOfAllocInterleavedCannotBeChanged() throws {
        try expectHostileLayout("    local fmap = alloc_interleaved({ 0 }, 1, 2097152)\n    fmap.ext_type = \"simple\" --here",
                                kind: .runtime, contains: "an fmap made by alloc_interleaved cannot be changed", lineMarker: "--here")
        try expectHostileLayout("    setmetatable(alloc_interleaved({ 0 }, 1, 2097152), {}) --here",
                                kind: .runtime, contains: "table expected, got famfs.fmap", lineMarker: "--here")
        // The iterator pairs hands out is a host function: called on anything else, it refuses.
        try expectHostileLayout("    local step = pairs(alloc_interleaved({ 0 }, 1, 2097152))\n    step(1) --here",
                                kind: .runtime, contains: "table expected, got number", lineMarker: "--here")
    }

    @Test func anFmapOfAllocInterleavedIsReadNoFurtherThanATable() throws {
        let hostile = """
            local list = {}
            for i = 1, 1025 do list[i] = (i - 1) % 4 end
            return alloc_interleaved(list, 1025, 2097152)
        """
        try expectHostileLayout(hostile, kind: .badReturn, contains: "extents[0].strips: 1025 entries; at most 1024 are read")
    }

    @Test func anFmapOfAllocInterleavedHoldsOnlyForTheCallThatMadeIt() throws {
        let fixture = try PolicyFixture(["policy.lua": """
            local kept
            function layout(file, devices)
              if kept then return kept end
              kept = alloc_interleaved({ 0, 1 }, 2, 2097152)
              return kept
            end
            """])
        let runtime = try fixture.runtime()
        let allocator = fixture.allocator()
        _ = try runtime.layout(for: FileFacts(path: "/first", size: 4 << 20), allocator: allocator)
        // The second call returns memory the first call owns: refused, and nothing is allocated for it.
        #expect { _ = try runtime.layout(for: FileFacts(path: "/second", size: 4 << 20), allocator: allocator) } throws: {
            let error = $0 as? PolicyError
            return error?.kind == .invalidFmap && error?.description.contains("was not allocated by this layout call") == true
        }
        #expect(allocator.freeBytes(device: 0) == (1 << 30) - (2 << 20))
    }

    @Test func theHostsDeviceTablesAreKnownByIdentityAndOtherTablesByTheirIndex() throws {
        let fixture = try PolicyFixture(["policy.lua": """
            function layout(file, devices)
              local second = devices[2]
              second.index = 3           -- the host's table still stands for device 1
              devices[2] = { index = 2 } -- a table of the script's own is read by its index
              local a, b = alloc(second, file.size), alloc(devices[2], file.size)
              assert(second.free == second.size - file.size, "free follows the host's table")
              return { ext_type = "simple", extents = { a, b } }
            end
            """])
        let fmap = try fixture.runtime().layout(for: FileFacts(path: "/f", size: 2 << 20), allocator: fixture.allocator())
        #expect(fmap.claimedRanges.map(\.device) == [1, 2])
    }

    @Test func allocOutsideLayoutIsRefused() throws {
        let fixture = try PolicyFixture(["policy.lua": """
            function layout(file, devices) return { ext_type = "simple", extents = { alloc(0, 1) } } end
            function placement(file) alloc(0, 1) return "dax" end
            """])
        #expect { _ = try fixture.runtime().placement(for: FileFacts(path: "/f", size: 1)) } throws: {
            ($0 as? PolicyError)?.description == "policy.lua:2: placement: alloc: only available inside layout"
        }
    }
}
