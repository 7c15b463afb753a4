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
}
