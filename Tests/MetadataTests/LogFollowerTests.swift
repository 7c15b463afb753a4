import Devices
import Fmap
@testable import Metadata
import SystemPackage
import Testing

/// A follower opens the devices read-only and takes in what a writer commits afterwards.
@Suite struct LogFollowerTests {
    @Test func entriesAppearOnlyOnceTheHeaderCommitsThemAndMatchTheWriters() throws {
        let fixture = try Fixture()
        let path = try fixture.device("dev0")
        try fixture.mkfs([path])
        let writer = try fixture.open([path])
        let follower = try fixture.open([path], access: .readOnly)
        #expect(try follower.refresh().isEmpty)

        try writer.appendMkdir(DirectoryEntry(path: try RelativePath("d"), uid: 1, gid: 1, mode: 0o755))
        try writer.appendFile(try fileEntry("d/a", size: 3 << 20, extents: [(0, 10, 4)]))
        let progress = try follower.refresh()
        #expect(progress.findings.isEmpty)
        #expect(progress.entries == writer.entries)
        #expect(follower.entries == writer.entries)
        #expect(follower.allocation.devices.map(\.freeBytes) == writer.allocation.devices.map(\.freeBytes))
        #expect(try follower.refresh().isEmpty, "entries are handed out once")

        // An entry written in full, but with the header not yet bumped, is not committed.
        let pending = LogEntry.file(try fileEntry("d/b", size: 2 << 20, extents: [(0, 20, 2)]))
        let device = try MappedDevice(path: path, access: .readWrite)
        try device.write(try pending.encoded(seqnum: 2), at: Fixture.slotOffset(2))
        #expect(try follower.refresh().isEmpty)
        var header = try LogHeader(decoding: try device.read(at: FamfsMedia.superblockReservation, count: LogHeader.encodedSize)[...],
                                   expectedLength: FamfsMedia.defaultLogLength)
        header.nextIndex = 3
        header.nextSeqnum = 3
        try device.write(header.encoded(), at: FamfsMedia.superblockReservation)
        #expect(try follower.refresh().entries == [IndexedEntry(index: 2, entry: pending)])
    }

    @Test func damagedEntryBelowTheCommitPointIsAFaultAndNotServed() throws {
        let fixture = try Fixture()
        let path = try fixture.device("dev0")
        try fixture.mkfs([path])
        let writer = try fixture.open([path])
        let follower = try fixture.open([path], access: .readOnly)
        for (index, name) in ["a", "b", "c"].enumerated() {
            try writer.appendFile(try fileEntry(name, size: 2 << 20, extents: [(0, 10 + 2 * UInt64(index), 2)]))
        }
        try fixture.flipByte(of: path, at: Fixture.slotOffset(1) + 200)
        let progress = try follower.refresh()
        #expect(progress.entries.map(\.index) == [0, 2])
        let finding = try #require(progress.findings.first)
        #expect(finding.isFault && finding.index == 1)
        #expect(try follower.refresh().isEmpty, "the fault is reported once and the entry never served")
    }

    @Test func tornLastEntryIsReportedOnceAndTakenInWhenTheNextWriterRewritesIt() throws {
        let fixture = try Fixture()
        let path = try fixture.device("dev0")
        try fixture.mkfs([path])
        let follower = try fixture.open([path], access: .readOnly)
        do {
            let writer = try fixture.open([path])
            try writer.appendFile(try fileEntry("a", size: 2 << 20, extents: [(0, 10, 2)]))
        }
        try fixture.flipByte(of: path, at: Fixture.slotOffset(0) + 100)
        let torn = try follower.refresh()
        #expect(torn.entries.isEmpty)
        #expect(torn.findings.count == 1 && torn.findings.first?.isFault == false)
        #expect(try follower.refresh().isEmpty, "a retried torn entry stays quiet")

        let restarted = try fixture.open([path])
        let again = try restarted.appendFile(try fileEntry("a2", size: 2 << 20, extents: [(0, 12, 2)]))
        #expect(again.index == 0)
        #expect(try follower.refresh().entries == [again])
    }

    @Test func collidingEntryIsReportedAndNotServedWhileLaterOnesAre() throws {
        let fixture = try Fixture()
        let path = try fixture.device("dev0")
        try fixture.mkfs([path])
        let follower = try fixture.open([path], access: .readOnly)
        try fixture.rawAppend(.file(try fileEntry("first", size: 2 << 20, extents: [(0, 20, 2)])), to: path)
        try fixture.rawAppend(.file(try fileEntry("second", size: 2 << 20, extents: [(0, 20, 2)])), to: path)
        try fixture.rawAppend(.file(try fileEntry("third", size: 2 << 20, extents: [(0, 30, 2)])), to: path)
        let progress = try follower.refresh()
        #expect(progress.entries.map(\.index) == [0, 2])
        guard case .collision(let index, _, _, _)? = progress.findings.first else {
            Issue.record("expected a collision, found \(progress.findings)")
            return
        }
        #expect(index == 1)
    }

    @Test func logRewrittenUnderAFollowerIsReportedOnceAndNothingMoreIsTakenIn() throws {
        let fixture = try Fixture()
        let path = try fixture.device("dev0")
        try fixture.mkfs([path])
        let follower = try fixture.open([path], access: .readOnly)
        try fixture.open([path]).appendFile(try fileEntry("a", size: 2 << 20, extents: [(0, 10, 2)]))
        #expect(try follower.refresh().entries.count == 1)
        try fixture.mkfs([path], force: true)
        let progress = try follower.refresh()
        guard case .logRewound(let next, let consumed)? = progress.findings.first else {
            Issue.record("expected a rewound log, found \(progress.findings)")
            return
        }
        #expect(next == 0 && consumed == 1)
        #expect(try follower.refresh().isEmpty)
    }

    @Test func writerImageDoesNotFollow() throws {
        let fixture = try Fixture()
        let path = try fixture.device("dev0")
        try fixture.mkfs([path])
        let writer = try fixture.open([path])
        try fixture.rawAppend(.mkdir(DirectoryEntry(path: try RelativePath("d"), uid: 0, gid: 0, mode: 0o755)), to: path)
        #expect(try writer.refresh().isEmpty)
    }
}
