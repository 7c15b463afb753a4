import Allocation
import Fmap
import Testing

let mib: UInt64 = 1 << 20

@Suite("Allocation bitmaps")
struct AllocationTests {
    @Test func firstFitSkipsTheReservedPrefix() {
        var space = DeviceSpace(size: 64 * mib, reservedBytes: 10 * mib)
        #expect(space.freeBytes == 54 * mib)
        let got1 = space.allocate(bytes: 1, alignment: 0)
        #expect(got1 == 10 * mib)
        let got2 = space.allocate(bytes: 4 * mib, alignment: 0)
        #expect(got2 == 12 * mib)
        #expect(space.usedBytes == 16 * mib)
    }

    @Test func alignmentIsHonoured() {
        var space = DeviceSpace(size: 64 * mib, reservedBytes: 2 * mib)
        let got3 = space.allocate(bytes: 2 * mib, alignment: 8 * mib)
        #expect(got3 == 8 * mib)
        let got4 = space.allocate(bytes: 2 * mib, alignment: 0)
        #expect(got4 == 2 * mib)
    }

    @Test func releasedUnitsAreReused() {
        var space = DeviceSpace(size: 16 * mib)
        let a = space.allocate(bytes: 8 * mib, alignment: 0)
        _ = space.allocate(bytes: 8 * mib, alignment: 0)
        let got5 = space.allocate(bytes: 2 * mib, alignment: 0)
        #expect(got5 == nil)
        space.release(offset: a!, length: 8 * mib)
        #expect(space.freeBytes == 8 * mib)
        let got6 = space.allocate(bytes: 6 * mib, alignment: 0)
        #expect(got6 == 0)
    }

    @Test func fragmentedSpaceNeedsAContiguousRun() {
        var space = DeviceSpace(size: 8 * mib)
        for _ in 0..<4 { _ = space.allocate(bytes: 2 * mib, alignment: 0) }
        space.release(offset: 0, length: 2 * mib)
        space.release(offset: 4 * mib, length: 2 * mib)
        let got7 = space.allocate(bytes: 4 * mib, alignment: 0)
        #expect(got7 == nil)
        #expect(space.freeBytes == 4 * mib)
    }

    @Test func noSpaceNamesTheDevice() {
        var state = AllocationState(devices: [DeviceSpace(size: 4 * mib)])
        #expect(throws: AllocationError.noSpace(device: 0, requested: 6 * mib, free: 4 * mib)) {
            try state.allocate(device: 0, bytes: 6 * mib, alignment: 0)
        }
        #expect(throws: AllocationError.unknownDevice(index: 1, deviceCount: 1)) {
            try state.allocate(device: 1, bytes: 1, alignment: 0)
        }
    }

    @Test func replayClaimsAreAllOrNothing() throws {
        var state = AllocationState(devices: [DeviceSpace(size: 16 * mib), DeviceSpace(size: 16 * mib)])
        let first = Fmap(fileSize: 4 * mib, extents: .simple([SimpleExtent(device: 1, offset: 4 * mib, length: 4 * mib)]))
        try state.claim(first, owner: "/a")
        let colliding = Fmap(fileSize: 4 * mib, extents: .simple([SimpleExtent(device: 0, offset: 0, length: 2 * mib),
                                                                   SimpleExtent(device: 1, offset: 6 * mib, length: 2 * mib)]))
        #expect(throws: AllocationError.self) { try state.claim(colliding, owner: "/b") }
        #expect(state.devices[0].usedBytes == 0)
        #expect(state.devices[1].usedBytes == 4 * mib)
        let outside = Fmap(fileSize: 2 * mib, extents: .simple([SimpleExtent(device: 0, offset: 16 * mib, length: 2 * mib)]))
        #expect(throws: AllocationError.self) { try state.claim(outside, owner: "/c") }
    }

    @Test("first fit gives the same offsets as a plain unit-by-unit search, over random allocations, releases and claims",
          arguments: [0 as UInt64, 10 * mib])
    func firstFitMatchesAPlainSearch(reserved: UInt64) {
        let units = 200
        var space = DeviceSpace(size: UInt64(units) * 2 * mib, reservedBytes: reserved)
        var model = ReferenceSpace(units: units, reservedUnits: Int((reserved + 2 * mib - 1) / (2 * mib)))
        var random = SeededSequence(seed: 7)
        var live: [(offset: UInt64, length: UInt64)] = []
        for step in 0..<5_000 {
            switch random.next() % 10 {
            case 0..<6:
                let length = (random.next() % 12 + 1) * 2 * mib
                let alignment = [0, 2 * mib, 8 * mib, 32 * mib][Int(random.next() % 4)]
                let offset = space.allocate(bytes: length, alignment: alignment)
                #expect(offset == model.allocate(units: Int(length / (2 * mib)), step: Int(max(alignment, 2 * mib) / (2 * mib))),
                        "step \(step): \(length / mib) MiB aligned to \(alignment / mib) MiB")
                if let offset { live.append((offset, length)) }
            case 6..<9 where !live.isEmpty:
                let freed = live.remove(at: Int(random.next() % UInt64(live.count)))
                space.release(offset: freed.offset, length: freed.length)
                model.release(unit: Int(freed.offset / (2 * mib)), units: Int(freed.length / (2 * mib)))
            default:
                let unit = Int(random.next() % UInt64(units)), count = Int(random.next() % 4 + 1)
                let claimed = space.claim(offset: UInt64(unit) * 2 * mib, length: UInt64(count) * 2 * mib)
                #expect(claimed == model.claim(unit: unit, units: count), "step \(step): claim of \(count) units at \(unit)")
                if claimed { live.append((UInt64(unit) * 2 * mib, UInt64(count) * 2 * mib)) }
            }
            #expect(space.usedBytes == UInt64(model.used.filter { $0 }.count) * 2 * mib)
        }
    }
}

/// First fit the obvious way, one unit at a time: what `DeviceSpace` must agree with.
private struct ReferenceSpace {
    var used: [Bool]

    init(units: Int, reservedUnits: Int) {
        used = (0..<units).map { $0 < reservedUnits }
    }

    mutating func allocate(units count: Int, step: Int) -> UInt64? {
        for start in stride(from: 0, through: used.count - count, by: step) where !used[start..<(start + count)].contains(true) {
            for i in start..<(start + count) { used[i] = true }
            return UInt64(start) * 2 * mib
        }
        return nil
    }

    mutating func release(unit: Int, units count: Int) {
        for i in unit..<(unit + count) { used[i] = false }
    }

    mutating func claim(unit: Int, units count: Int) -> Bool {
        guard unit + count <= used.count, !used[unit..<(unit + count)].contains(true) else { return false }
        for i in unit..<(unit + count) { used[i] = true }
        return true
    }
}

/// A seeded linear congruential generator (Knuth's MMIX constants), so a failing sequence repeats.
private struct SeededSequence {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state >> 16
    }
}
