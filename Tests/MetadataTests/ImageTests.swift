import Allocation
import Devices
import Fmap
@testable import Metadata
import SystemPackage
import Testing

@Suite struct ImageTests {
    @Test func appendedFilesAndDirectoriesSurviveReopenWithTheSameAllocation() throws {
        let fixture = try Fixture()
        let paths = [try fixture.device("dev0"), try fixture.device("dev1", size: 64 << 20)]
        try fixture.mkfs(paths)
        let before: (entries: [IndexedEntry], free: [UInt64], next: UInt64?)
        do {
            let image = try fixture.open(paths)
            try image.appendMkdir(DirectoryEntry(path: try RelativePath("dir"), uid: 1, gid: 1, mode: 0o755))
            try image.appendFile(try fileEntry("dir/a", size: 3 << 20, extents: [(0, 10, 2), (1, 2, 2)]))
            try image.appendFile(path: try RelativePath("dir/b"), uid: 2, gid: 2, mode: 0o600) { state throws(AllocationError) in
                let extent = try state.allocate(device: 0, bytes: 5 << 20, alignment: 2 << 20)
                return Fmap(fileSize: 5 << 20, extents: .simple([extent]))
            }
            #expect(image.findings.isEmpty)
            var probe = image.allocation
            before = (image.entries, image.allocation.devices.map(\.freeBytes),
                      try? probe.allocate(device: 0, bytes: 2 << 20, alignment: 2 << 20).offset)
        }
        let reopened = try fixture.open(paths)
        #expect(reopened.findings.isEmpty)
        #expect(reopened.entries == before.entries)
        #expect(reopened.entries.map(\.index) == [0, 1, 2, 3])
        #expect(reopened.allocation.devices.map(\.freeBytes) == before.free)
        var probe = reopened.allocation
        #expect(try probe.allocate(device: 0, bytes: 2 << 20, alignment: 2 << 20).offset == before.next)
        for case .file(let file) in reopened.entries.map(\.entry) {
            var state = reopened.allocation
            #expect(throws: AllocationError.self) { try state.claim(file.fmap, owner: "probe") }
        }
    }

    @Test func reservedPrefixIsNeverAllocated() throws {
        let fixture = try Fixture()
        let path = try fixture.device("dev0")
        try fixture.mkfs([path])
        var state = try fixture.open([path]).allocation
        let first = try state.allocate(device: 0, bytes: 2 << 20, alignment: 2 << 20)
        #expect(first.offset == FamfsMedia.superblockReservation + FamfsMedia.defaultLogLength)
    }

    @Test func tornLastEntryIsIgnoredWithAFindingAndItsSlotReused() throws {
        let fixture = try Fixture()
        let path = try fixture.device("dev0")
        try fixture.mkfs([path])
        do {
            let image = try fixture.open([path])
            try image.appendFile(try fileEntry("a", size: 2 << 20, extents: [(0, 10, 2)]))
            try image.appendFile(try fileEntry("b", size: 2 << 20, extents: [(0, 12, 2)]))
        }
        try fixture.flipByte(of: path, at: Fixture.slotOffset(1) + 100)
        let image = try fixture.open([path])
        #expect(image.entries.count == 1)
        let finding = try #require(image.findings.first)
        #expect(!finding.isFault && finding.index == 1)
        #expect("\(finding)".contains("torn"))
        let again = try image.appendFile(try fileEntry("b", size: 2 << 20, extents: [(0, 12, 2)]))
        #expect(again.index == 1)
        #expect(try fixture.open([path]).findings.isEmpty)
    }

    @Test func flippedSuperblockByteIsRefusedWithAClearMessage() throws {
        let fixture = try Fixture()
        let path = try fixture.device("dev0")
        try fixture.mkfs([path])
        try fixture.flipByte(of: path, at: 20)
        #expect {
            try fixture.open([path])
        } throws: { error in
            guard case .superblock(let culprit, .checksumMismatch) = error as? ImageError else { return false }
            return culprit == path && "\(error)".contains("crc")
        }
    }

    @Test func truncatedDeviceIsRefused() throws {
        let fixture = try Fixture()
        let path = try fixture.device("dev0")
        try fixture.mkfs([path])
        _ = try fixture.device("dev0", size: 128 << 20)
        #expect {
            try fixture.open([path])
        } throws: { error in
            "\(error)".contains("truncated")
        }
    }

    @Test func flippedMiddleEntryIsAFaultThatStopsAppendsAndCheckNamesIt() throws {
        let fixture = try Fixture()
        let path = try fixture.device("dev0")
        try fixture.mkfs([path])
        do {
            let image = try fixture.open([path])
            for name in ["a", "b", "c"] {
                try image.appendMkdir(DirectoryEntry(path: try RelativePath(name), uid: 0, gid: 0, mode: 0o755))
            }
        }
        try fixture.flipByte(of: path, at: Fixture.slotOffset(1) + 30)
        let image = try fixture.open([path])
        #expect(image.entries.map(\.index) == [0, 2])
        #expect(throws: ImageError.self) {
            try image.appendMkdir(DirectoryEntry(path: try RelativePath("d"), uid: 0, gid: 0, mode: 0o755))
        }
        let report = FileSystemCheck.run(devices: [path])
        #expect(!report.isClean)
        #expect(report.firstFault?.contains("log entry 1") == true)
    }

    @Test func collisionOnReplayIsReportedAndTheFileNotServed() throws {
        let fixture = try Fixture()
        let path = try fixture.device("dev0")
        try fixture.mkfs([path])
        do {
            let image = try fixture.open([path])
            try image.appendFile(try fileEntry("first", size: 4 << 20, extents: [(0, 20, 4)]))
            #expect(throws: ImageError.self) {
                try image.appendFile(try fileEntry("refused", size: 2 << 20, extents: [(0, 22, 2)]))
            }
        }
        try fixture.rawAppend(.file(try fileEntry("second", size: 2 << 20, extents: [(0, 22, 2)])), to: path)
        try fixture.rawAppend(.file(try fileEntry("inlog", size: 2 << 20, extents: [(0, 4, 2)])), to: path)
        let image = try fixture.open([path])
        #expect(image.entries.count == 1)
        let collisions = image.findings.filter { if case .collision = $0 { true } else { false } }
        #expect(collisions.count == 2)
        #expect("\(collisions[0])".contains("'first'"))
        #expect("\(collisions[1])".contains("superblock and log"))
        #expect(FileSystemCheck.run(devices: [path]).firstFault?.contains("second") == true)
    }

    @Test func extentLeavingItsDeviceIsReported() throws {
        let fixture = try Fixture()
        let path = try fixture.device("dev0")
        try fixture.mkfs([path])
        try fixture.rawAppend(.file(try fileEntry("far", size: 2 << 20, extents: [(0, 256, 2)])), to: path)
        try fixture.rawAppend(.file(try fileEntry("elsewhere", size: 2 << 20, extents: [(3, 20, 2)])), to: path)
        let findings = try fixture.open([path]).findings
        #expect(findings.count == 2)
        #expect("\(findings[0])".contains("runs past the end"))
        #expect("\(findings[1])".contains("device index 3"))
    }

    @Test("a FILE entry whose extents leave bytes without memory is reported and not served")
    func uncoveredFileIsReported() throws {
        let fixture = try Fixture()
        let path = try fixture.device("dev0")
        try fixture.mkfs([path])
        // 8 MiB of file on 2 MiB of memory: served, its reads would run into the next file's memory.
        try fixture.rawAppend(.file(try fileEntry("short", size: 8 << 20, extents: [(0, 20, 2)])), to: path)
        let striped = Fmap(fileSize: 12 << 20, extents: .interleaved([InterleavedExtent(
            chunkSize: 2 << 20, byteCount: 12 << 20,
            strips: [SimpleExtent(device: 0, offset: 30 << 20, length: 2 << 20),
                     SimpleExtent(device: 0, offset: 40 << 20, length: 6 << 20)])]))
        try fixture.rawAppend(.file(FileEntry(path: try RelativePath("thin"), uid: 0, gid: 0, mode: 0o644, fmap: striped)), to: path)
        try fixture.rawAppend(.file(try fileEntry("fine", size: 2 << 20, extents: [(0, 22, 2)])), to: path)
        let image = try fixture.open([path])
        #expect(image.entries.count == 1)
        #expect(image.findings.map(\.description) == [
            "log entry 0 'short': its fmap leaves bytes without memory (extents: cover 0x200000 bytes, less than file_size 0x800000); the file is not served",
            "log entry 1 'thin': its fmap leaves bytes without memory (extents[0].strips[0].length: 0x200000 is less than the 0x600000 bytes its chunks need); the file is not served",
        ])
        #expect(FileSystemCheck.run(devices: [path]).firstFault?.contains("'short'") == true)
    }

    @Test("check of the primary device alone checks the log, bounding the other devices' extents by their recorded sizes")
    func checkOfThePrimaryAlone() throws {
        let fixture = try Fixture()
        let paths = [try fixture.device("dev0"), try fixture.device("dev1")]
        try fixture.mkfs(paths)
        try fixture.open(paths).appendFile(try fileEntry("second", size: 2 << 20, extents: [(1, 20, 2)]))
        let clean = FileSystemCheck.run(devices: [paths[0]])
        #expect(clean.isClean, "\(clean)")
        #expect(clean.deviceCount == 2 && clean.notes.contains { $0.contains("only the primary device was given") })
        try fixture.rawAppend(.file(try fileEntry("beyond", size: 2 << 20, extents: [(1, 4096, 2)])), to: paths[0])
        #expect(FileSystemCheck.run(devices: [paths[0]]).firstFault?.contains("'beyond'") == true)
    }

    @Test func swappedMissingAndForeignDevicesAreRefusedByName() throws {
        let fixture = try Fixture()
        let paths = try ["dev0", "dev1", "dev2"].map { try fixture.device($0, size: 64 << 20) }
        let made = try fixture.mkfs(paths)
        #expect {
            try fixture.open([paths[0], paths[2], paths[1]])
        } throws: { error in
            guard case let .wrongDevice(path, index, expected, found, foundIndex) = error as? ImageError else { return false }
            return path == paths[2] && index == 1 && expected == made.deviceUUIDs[1] && found == made.deviceUUIDs[2] && foundIndex == 2
        }
        #expect(throws: ImageError.missingDevice(index: 2, uuid: made.deviceUUIDs[2])) {
            try fixture.open(Array(paths.prefix(2)))
        }
        let other = try fixture.device("other", size: 64 << 20)
        let extra = try fixture.device("extra", size: 64 << 20)
        try fixture.mkfs([other, extra])
        #expect {
            try fixture.open([paths[0], paths[1], extra])
        } throws: { error in
            if case .foreignDevice(extra, 2, _, _) = error as? ImageError { true } else { false }
        }
        #expect(throws: ImageError.notPrimary(paths[1])) { try fixture.open([paths[1], paths[0], paths[2]]) }
        #expect(throws: ImageError.unexpectedDevice(other, deviceCount: 3)) { try fixture.open(paths + [other]) }
    }

    @Test func readOnlyAndForeignHostOpensRefuseAppends() throws {
        let fixture = try Fixture()
        let path = try fixture.device("dev0")
        try fixture.mkfs([path])
        let follower = try fixture.open([path], access: .readOnly)
        #expect(throws: ImageError.readOnly) {
            try follower.appendMkdir(DirectoryEntry(path: try RelativePath("d"), uid: 0, gid: 0, mode: 0o755))
        }
        let stranger = MediaUUID.random()
        #expect(throws: ImageError.notLogOwner(host: stranger, owner: fixture.host)) {
            try FamfsImage.open(devices: [path], access: .readWrite, host: stranger)
        }
    }

    @Test func failedAppendUndoesItsAllocation() throws {
        let fixture = try Fixture()
        let path = try fixture.device("dev0")
        try fixture.mkfs([path])
        let image = try fixture.open([path])
        let free = image.allocation.devices[0].freeBytes
        #expect {
            try image.appendFile(path: try RelativePath("fragmented"), uid: 0, gid: 0, mode: 0o644) { state throws(AllocationError) in
                let extents = try (0..<17).map { _ throws(AllocationError) in
                    try state.allocate(device: 0, bytes: 2 << 20, alignment: 2 << 20)
                }
                return Fmap(fileSize: 34 << 20, extents: .simple(extents))
            }
        } throws: { ($0 as? ImageError)?.errno == .fileTooLarge }
        #expect(image.allocation.devices[0].freeBytes == free)
        #expect(image.entries.isEmpty)
    }

    @Test func concurrentAppendsTakeDistinctSlots() async throws {
        let fixture = try Fixture()
        let path = try fixture.device("dev0")
        try fixture.mkfs([path])
        let image = try fixture.open([path])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    for n in 0..<25 {
                        try image.appendFile(path: try RelativePath("w\(worker)/f\(n)"), uid: 0, gid: 0, mode: 0o644) {
                            state throws(AllocationError) in
                            Fmap(fileSize: 2 << 20, extents: .simple([try state.allocate(device: 0, bytes: 2 << 20, alignment: 2 << 20)]))
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let reopened = try fixture.open([path])
        #expect(reopened.findings.isEmpty)
        #expect(reopened.entries.map(\.index) == Array(0..<100))
    }

    @Test func fullLogIsRefusedWithENOSPC() throws {
        let fixture = try Fixture()
        let path = try fixture.device("dev0")
        try fixture.mkfs([path])
        let image = try fixture.open([path])
        let directory = DirectoryEntry(path: try RelativePath("d"), uid: 0, gid: 0, mode: 0o755)
        for _ in 0..<image.freeSlots { try image.appendMkdir(directory) }
        #expect { try image.appendMkdir(directory) } throws: { ($0 as? ImageError)?.errno == .noSpace }
    }
}
