import Fmap
@testable import Metadata
import SystemPackage
import Testing

@Suite struct CodecTests {
    let superblock = Superblock(logOffset: 2 << 20, logLength: 8 << 20, fileSystemUUID: .random(), systemUUID: .random(),
                                role: .primary, device: .init(size: 256 << 20, uuid: .random(), name: "dev0"))

    @Test func superblockRoundTrips() throws {
        let decoded = try Superblock(decoding: superblock.encoded()[...])
        #expect(decoded == superblock)
        try decoded.validate(deviceSize: 256 << 20)
    }

    @Test func flippedSuperblockByteFailsTheChecksum() {
        var bytes = superblock.encoded()
        bytes[50] ^= 0x01
        #expect {
            try Superblock(decoding: bytes[...])
        } throws: { error in
            guard case .checksumMismatch(let structure, _, _) = error as? MediaFormatError else { return false }
            return structure == "superblock"
        }
    }

    @Test func superblockLargerThanItsDeviceIsRefusedAsTruncated() throws {
        #expect {
            try superblock.validate(deviceSize: 128 << 20)
        } throws: { error in
            "\(error)".contains("truncated")
        }
    }

    @Test func logHeaderRoundTripsAndCountsFamfsSlots() throws {
        var header = LogHeader(length: 8 << 20)
        header.nextIndex = 3
        header.nextSeqnum = 3
        #expect(header.slotCount == 15_420)
        #expect(try LogHeader(decoding: header.encoded()[...], expectedLength: 8 << 20) == header)
    }

    @Test func logHeaderWithSeqnumBehindItsIndexIsRefused() {
        var header = LogHeader(length: 8 << 20)
        header.nextIndex = 3
        header.nextSeqnum = 2
        #expect(throws: MediaFormatError.self) { try LogHeader(decoding: header.encoded()[...], expectedLength: 8 << 20) }
    }

    @Test(arguments: [
        LogEntry.mkdir(DirectoryEntry(path: try! RelativePath("a/b"), uid: 1, gid: 2, mode: 0o755)),
        LogEntry.addDevice(DeviceEntry(index: 1, size: 1 << 30, uuid: .random())),
        LogEntry.file(try! fileEntry("a/b/c", size: 3 << 20, extents: [(0, 10, 2), (1, 4, 2)])),
        LogEntry.file(FileEntry(path: try! RelativePath("striped"), uid: 0, gid: 0, mode: 0o600, fmap: Fmap(
            fileSize: 5 << 20, extents: .interleaved([InterleavedExtent(
                chunkSize: 2 << 20, byteCount: 5 << 20,
                strips: (0..<16).map { SimpleExtent(device: 0, offset: UInt64(10 + 2 * $0) << 20, length: 2 << 20) })])))),
    ])
    func entriesRoundTrip(entry: LogEntry) throws {
        let bytes = try entry.encoded(seqnum: 42)
        #expect(bytes.count == LogEntry.encodedSize)
        #expect(try LogEntry(decoding: bytes[...], index: 42) == entry)
    }

    @Test func entryInTheWrongSlotIsRefusedBySeqnum() throws {
        let bytes = try LogEntry.mkdir(DirectoryEntry(path: try RelativePath("d"), uid: 0, gid: 0, mode: 0o755)).encoded(seqnum: 5)
        #expect {
            try LogEntry(decoding: bytes[...], index: 6)
        } throws: { error in
            "\(error)".contains("seqnum")
        }
    }

    @Test func pathLongerThanFamfsFieldMapsToENAMETOOLONG() throws {
        _ = try RelativePath(String(repeating: "x", count: 79))
        #expect {
            try RelativePath(String(repeating: "x", count: 80))
        } throws: { error in
            (error as? MediaFormatError)?.errno == .fileNameTooLong
        }
    }

    @Test(arguments: ["/abs", "", "a//b", "a/../b", "./a", "a/"])
    func pathsFamfsCannotReplayAreRefused(path: String) {
        #expect { try RelativePath(path) } throws: { ($0 as? MediaFormatError)?.errno == .invalidArgument }
    }

    @Test func moreExtentsThanAnEntryHoldsMapToEFBIG() throws {
        let seventeen = (0..<17).map { (UInt32(0), UInt64(10 + 2 * $0), UInt64(2)) }
        let file = try fileEntry("big", size: 34 << 20, extents: seventeen)
        #expect { try LogEntry.file(file).encoded(seqnum: 0) } throws: { ($0 as? MediaFormatError)?.errno == .fileTooLarge }

        let strips = (0..<17).map { SimpleExtent(device: 0, offset: UInt64(10 + 2 * $0) << 20, length: 2 << 20) }
        let interleaved = InterleavedExtent(chunkSize: 2 << 20, byteCount: 2 << 20, strips: strips)
        for extents in [FmapExtents.interleaved([interleaved]),
                        .interleaved(Array(repeating: InterleavedExtent(chunkSize: 2 << 20, byteCount: 2 << 20, strips: [strips[0]]), count: 2))] {
            let entry = LogEntry.file(FileEntry(path: try RelativePath("s"), uid: 0, gid: 0, mode: 0,
                                                fmap: Fmap(fileSize: 2 << 20, extents: extents)))
            #expect { try entry.encoded(seqnum: 0) } throws: { ($0 as? MediaFormatError)?.errno == .fileTooLarge }
        }
    }

    @Test func deviceIndexBeyond32BitsIsRefusedOnDecode() throws {
        var bytes = try LogEntry.file(try fileEntry("f", size: 1, extents: [(0, 10, 2)])).encoded(seqnum: 0)
        let devindexOffset = LogEntry.bodyOffset + FileEntry.fmapOffset + MediaFmap.extentsOffset
        bytes.replaceSubrange(devindexOffset..<(devindexOffset + 8), with: withUnsafeBytes(of: (UInt64(1) << 32).littleEndian, Array.init))
        let crc = Checksum.crc32(bytes[0..<LogEntry.crcOffset])
        bytes.replaceSubrange(LogEntry.crcOffset..<LogEntry.encodedSize, with: withUnsafeBytes(of: crc.littleEndian, Array.init))
        #expect {
            try LogEntry(decoding: bytes[...], index: 0)
        } throws: { error in
            "\(error)".contains("devindex")
        }
    }

    @Test func uuidPrintsAndParsesInTheUsualForm() throws {
        let uuid = try #require(MediaUUID(string: "3d1219c7c4c5404aaa1f6d2a48adfda4"))
        #expect(uuid.description == "3d1219c7-c4c5-404a-aa1f-6d2a48adfda4")
        #expect(MediaUUID(string: uuid.description) == uuid)
    }
}
