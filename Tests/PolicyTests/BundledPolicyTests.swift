import Allocation
import Fmap
import Foundation
import Policy
import Testing

/// The repository's policies/ folder.
private let policies: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path + "/policies"
}()

private let mib2 = FmapLimits.mib2

private func devices(_ count: Int, size: UInt64 = 1 << 30) -> [DeviceFacts] {
    (0..<count).map { DeviceFacts(index: UInt32($0), path: "/dev/dax\($0).0", size: size, alignment: mib2) }
}

private func allocator(_ devices: [DeviceFacts]) -> AllocationStateAllocator {
    AllocationStateAllocator(state: AllocationState(devices: devices.map { DeviceSpace(size: $0.size) }))
}

private func load(_ name: String, _ devices: [DeviceFacts], config: [String: String] = [:]) throws -> PolicyRuntime {
    try PolicyRuntime(policyPath: policies + "/" + name, devices: devices, config: config)
}

private func strips(_ fmap: Fmap) -> [SimpleExtent] {
    guard case .interleaved(let extents) = fmap.extents else { return [] }
    return extents.flatMap(\.strips)
}

@Suite struct StripePolicyTests {
    @Test func stripesOverSixteenDevicesWithTwoMiBChunks() throws {
        let pool = devices(16)
        let fmap = try load("stripe.lua", pool).layout(for: FileFacts(path: "/a", size: 100 << 20), allocator: allocator(pool))
        guard case .interleaved(let extents) = fmap.extents else { Issue.record("not interleaved"); return }
        #expect(extents.count == 1 && extents[0].chunkSize == mib2 && extents[0].byteCount == 100 << 20)
        #expect(extents[0].strips.map(\.device) == Array(0..<16))
        // 50 chunks over 16 strips: the first two strips carry 4 chunks, the rest 3.
        #expect(extents[0].strips.map(\.length) == [8 << 20, 8 << 20] + Array(repeating: 6 << 20, count: 14))
    }

    @Test func roundRobinContinuesWhereThePreviousFileEnded() throws {
        let pool = devices(8)
        let runtime = try load("stripe.lua", pool, config: ["width": "4"])
        let space = allocator(pool)
        let first = try runtime.layout(for: FileFacts(path: "/a", size: 3 * mib2), allocator: space)
        let second = try runtime.layout(for: FileFacts(path: "/b", size: 6 * mib2), allocator: space)
        #expect(strips(first).map(\.device) == [0, 1, 2])
        #expect(strips(second).map(\.device) == [3, 4, 5, 6])
    }

    @Test func smallAndEmptyFilesUseOneChunk() throws {
        let pool = devices(4)
        let fmap = try load("stripe.lua", pool).layout(for: FileFacts(path: "/e", size: 0), allocator: allocator(pool))
        #expect(strips(fmap) == [SimpleExtent(device: 0, offset: 0, length: mib2)])
    }

    @Test func fullDevicesAreSkipped() throws {
        let pool = devices(4, size: 8 << 20)
        let runtime = try load("stripe.lua", pool, config: ["width": "2"])
        let space = allocator(pool)
        _ = try space.allocate(device: 0, bytes: 8 << 20, alignment: mib2)
        let fmap = try runtime.layout(for: FileFacts(path: "/a", size: 4 * mib2), allocator: space)
        #expect(strips(fmap).map(\.device) == [1, 2])
    }

    @Test func unknownPickModeIsRefusedAtLoad() throws {
        #expect { _ = try load("stripe.lua", devices(2), config: ["pick": "smart"]) } throws: {
            ($0 as? PolicyError)?.description.hasPrefix("stripe.lua:11: load: config.pick: \"smart\" is not one of round-robin, random") == true
        }
    }

    @Test func aMalformedPoolIsRefusedAtLoadWithItsLine() throws {
        let refusals = [
            "abc": #"stripe.lua:15: load: config.pool: "abc" is not a device index or a range of them, e.g. "0-7,12""#,
            "0-3,x": #"stripe.lua:15: load: config.pool: "x" in "0-3,x" is not a device index or a range of them"#,
            "5-2": #"stripe.lua:15: load: config.pool: "5-2" runs backwards; write the smaller index first"#,
            ",": #"stripe.lua:15: load: config.pool: "," names no device"#,
        ]
        for (spec, message) in refusals {
            #expect("pool=\(spec)", performing: { _ = try load("stripe.lua", devices(8), config: ["pool": spec]) }, throws: {
                ($0 as? PolicyError)?.description.hasPrefix(message) == true
            })
        }
        _ = try load("stripe.lua", devices(8), config: ["pool": "0-3, 6"])
    }

    @Test func poolOutsideTheDevicesStopsTheLoad() throws {
        #expect { _ = try load("stripe.lua", devices(2), config: ["pool": "0-5"]) } throws: {
            ($0 as? PolicyError)?.description.hasPrefix("stripe.lua:21: load: pool: device 2 does not exist (2 devices)") == true
        }
    }
}

@Suite struct ContiguousPolicyTests {
    @Test func placesOneExtentOnTheFirstDeviceWithRoom() throws {
        let pool = devices(3, size: 64 << 20)
        let runtime = try load("contiguous.lua", pool)
        let space = allocator(pool)
        let a = try runtime.layout(for: FileFacts(path: "/a", size: 40 << 20), allocator: space)
        let b = try runtime.layout(for: FileFacts(path: "/b", size: 40 << 20), allocator: space)
        let c = try runtime.layout(for: FileFacts(path: "/c", size: 5 << 20), allocator: space)
        #expect(a.extents == .simple([SimpleExtent(device: 0, offset: 0, length: 40 << 20)]))
        #expect(b.extents == .simple([SimpleExtent(device: 1, offset: 0, length: 40 << 20)]))
        #expect(c.extents == .simple([SimpleExtent(device: 0, offset: 40 << 20, length: 6 << 20)]))
    }

    @Test func aFileThatFitsNowhereIsENOSPC() throws {
        let pool = devices(2, size: 16 << 20)
        #expect { _ = try load("contiguous.lua", pool).layout(for: FileFacts(path: "/big", size: 32 << 20), allocator: allocator(pool)) } throws: {
            let error = $0 as? PolicyError
            return error?.kind == .allocation && error?.errno == ENOSPC && error?.file == "lib/famfs.lua"
        }
    }
}

@Suite struct MixedPolicyTests {
    @Test func everyFileStartsStagedAndOnlyLargeUnmatchedFilesAreCommitted() throws {
        let runtime = try load("mixed.lua", devices(4), config: ["backing_prefix": "backing"])
        #expect(try runtime.placement(for: FileFacts(path: "/data/big", size: 0)) == .passthrough(backingPath: "backing/data/big"))
        #expect(try runtime.shouldCommitOnRelease(FileFacts(path: "/data/big", size: 64 << 20)))
        #expect(try !runtime.shouldCommitOnRelease(FileFacts(path: "/data/small", size: 4096)))
        #expect(try !runtime.shouldCommitOnRelease(FileFacts(path: "/scratch/big", size: 64 << 20)))
        #expect(try !runtime.shouldCommitOnRelease(FileFacts(path: "/data/x.tmp", size: 64 << 20)))
    }

    @Test func patternsAndThresholdAreConfigurable() throws {
        let runtime = try load("mixed.lua", devices(4), config: ["passthrough_patterns": "%.log$", "min_dax_size": "1K"])
        #expect(try runtime.shouldCommitOnRelease(FileFacts(path: "/scratch/x", size: 4096)))
        #expect(try !runtime.shouldCommitOnRelease(FileFacts(path: "/var/x.log", size: 4096)))
    }

    @Test func daxFilesAreStriped() throws {
        let pool = devices(4)
        let fmap = try load("mixed.lua", pool, config: ["width": "2"]).layout(for: FileFacts(path: "/d", size: 8 << 20), allocator: allocator(pool))
        #expect(strips(fmap).map(\.device) == [0, 1])
    }
}

@Suite struct StageThenCommitPolicyTests {
    @Test func everyFileStartsAsPassthrough() throws {
        let runtime = try load("stage_then_commit.lua", devices(2), config: ["stage_prefix": "stage"])
        #expect(try runtime.placement(for: FileFacts(path: "/a/b", size: 0)) == .passthrough(backingPath: "stage/a/b"))
    }

    @Test func releaseCommitsFilesWithData() throws {
        let runtime = try load("stage_then_commit.lua", devices(2))
        #expect(try runtime.shouldCommitOnRelease(FileFacts(path: "/a", size: 1)))
        #expect(try !runtime.shouldCommitOnRelease(FileFacts(path: "/a", size: 0)))
    }

    @Test func smallFilesCommitContiguousAndLargeOnesStriped() throws {
        let pool = devices(4)
        let runtime = try load("stage_then_commit.lua", pool, config: ["stripe_threshold": "16M"])
        let space = allocator(pool)
        let small = try runtime.layout(for: FileFacts(path: "/s", size: 3 << 20), allocator: space)
        let large = try runtime.layout(for: FileFacts(path: "/l", size: 16 << 20), allocator: space)
        #expect(small.extents == .simple([SimpleExtent(device: 0, offset: 0, length: 4 << 20)]))
        #expect(strips(large).count == 4)
    }
}

@Suite struct FamfsLibraryTests {
    /// A policy next to a copy of lib/famfs.lua that runs `checks` at load.
    private func run(_ checks: String) throws {
        let lib = try String(contentsOfFile: policies + "/lib/famfs.lua", encoding: .utf8)
        let fixture = try PolicyFixture([
            "lib/famfs.lua": lib,
            "policy.lua": "local famfs = require(\"lib.famfs\")\n\(checks)\nfunction layout() end\n",
        ])
        _ = try fixture.runtime()
    }

    @Test func sizesParseWithSuffixes() throws {
        try run("""
            assert(famfs.parse_size("2M") == 2097152)
            assert(famfs.parse_size("64g") == 64 * 1024 ^ 3)
            assert(famfs.parse_size("8KiB") == 8192)
            assert(famfs.parse_size(4096) == 4096)
            assert(famfs.parse_size("lots") == nil)
            -- The sizes the command line takes: fractions with a suffix, spaces before it.
            assert(famfs.parse_size("1.5G") == 1610612736)
            assert(famfs.parse_size("10 M") == 10485760 and famfs.parse_size("10 MiB") == 10485760)
            assert(famfs.parse_size("1.5") == nil)
            assert(famfs.parse_size("99999999999T") == nil, "too large for an integer")
            assert(famfs.parse_size("99999999999999999999") == nil)
            """)
    }

    @Test func chunksAndRounding() throws {
        try run("""
            assert(famfs.chunks(0, famfs.CHUNK) == 1)
            assert(famfs.chunks(famfs.CHUNK + 1, famfs.CHUNK) == 2)
            assert(famfs.round_up(5, 4) == 8)
            """)
    }

    @Test func poolsParseIndicesAndRanges() throws {
        try run("""
            local devices = {}
            for i = 1, 8 do devices[i] = { index = i - 1, free = 100 } end
            local pool = famfs.pool(devices, "1-3, 6")
            assert(#pool == 4 and pool[1].index == 1 and pool[4].index == 6)
            assert(famfs.pool(devices, nil) == devices)
            local ranges = famfs.parse_pool("1-3, 6")
            assert(#ranges == 2 and ranges[1][1] == 1 and ranges[1][2] == 3 and ranges[2][1] == 6 and ranges[2][2] == 6)
            assert(#famfs.pool(devices, ranges) == 4)
            assert(famfs.parse_pool(nil) == nil and famfs.parse_pool("") == nil)
            local none, problem = famfs.parse_pool("0x10")
            assert(none == nil and problem:find("is not a device index", 1, true), problem)
            none, problem = famfs.parse_pool("0,0,1")
            assert(none == nil and problem == '"0" in "0,0,1" names device 0 again; name each device once', problem)
            none, problem = famfs.parse_pool("0-3,2")
            assert(none == nil and problem == '"2" in "0-3,2" names device 2 again; name each device once', problem)
            none, problem = famfs.parse_pool("4-6,0-4")
            assert(none == nil and problem:find("names device 4 again", 1, true), problem)
            local picked = famfs.pick_round_robin(pool, 2, 3, 50)
            assert(#picked == 2 and picked[1].index == 6 and picked[2].index == 1)
            devices[7].free = 0
            assert(#famfs.pick_round_robin(pool, 4, 0, 50) == 3)
            assert(#famfs.pick_random(pool, 4, 50) == 3)
            """)
    }
}
