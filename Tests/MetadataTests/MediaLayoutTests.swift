import CFamfsMediaReference
import Fmap
@testable import Metadata
import Testing

/// The Swift encoders against C structs written independently from famfs's field list:
/// sizes and offsets from the C compiler, and encoded bytes read back through the C fields.
@Suite struct MediaLayoutTests {
    static let layouts: [String: (offset: Int, size: Int)] = {
        var count = 0
        let table = ref_layouts(&count)!
        return Dictionary(uniqueKeysWithValues: (0..<count).map {
            (String(cString: table[$0].name), (offset: table[$0].offset, size: table[$0].size))
        })
    }()

    static func size(_ name: String) -> Int { layouts[name]!.size }
    static func offset(_ name: String) -> Int { layouts[name]!.offset }

    @Test func structSizesMatchTheCDefinitions() {
        #expect(Superblock.encodedSize == Self.size("ref_superblock"))
        #expect(LogHeader.encodedSize == Self.size("ref_log_header"))
        #expect(LogEntry.encodedSize == Self.size("ref_log_entry"))
        #expect(FileEntry.encodedSize == Self.size("ref_file_entry"))
        #expect(DirectoryEntry.encodedSize == Self.size("ref_mkdir_entry"))
        #expect(DeviceEntry.encodedSize == Self.size("ref_daxdev_entry"))
        #expect(MediaFmap.encodedSize == Self.size("ref_fmap"))
        #expect(MediaFmap.simpleExtentSize == Self.size("ref_simple_extent"))
        #expect(MediaFmap.interleavedExtentSize == Self.size("ref_interleaved_extent"))
        #expect(LogEntry.bodySize == Self.size("ref_log_entry.file"))
    }

    @Test func fieldOffsetsMatchTheCDefinitions() {
        #expect(Superblock.crcOffset == Self.offset("ref_superblock.crc"))
        #expect(Superblock.flagsOffset == Self.offset("ref_superblock.flags"))
        #expect(Superblock.deviceOffset == Self.offset("ref_superblock.devices"))
        #expect(LogHeader.crcOffset == Self.offset("ref_log_header.crc"))
        #expect(LogHeader.nextSeqnumOffset == Self.offset("ref_log_header.next_seqnum"))
        #expect(LogEntry.typeOffset == Self.offset("ref_log_entry.type"))
        #expect(LogEntry.bodyOffset == Self.offset("ref_log_entry.file"))
        #expect(LogEntry.crcOffset == Self.offset("ref_log_entry.crc"))
        #expect(FileEntry.pathOffset == Self.offset("ref_file_entry.relpath"))
        #expect(FileEntry.fmapOffset == Self.offset("ref_file_entry.fmap"))
        #expect(MediaFmap.extentsOffset == Self.offset("ref_fmap.simple.extents"))
        #expect(MediaFmap.extentsOffset == Self.offset("ref_fmap.interleaved.extents"))
    }

    @Test func encodedSuperblockReadsBackThroughTheCStruct() throws {
        let fsUUID = MediaUUID.random(), systemUUID = MediaUUID.random(), deviceUUID = MediaUUID.random()
        let superblock = Superblock(logOffset: 2 << 20, logLength: 8 << 20, fileSystemUUID: fsUUID, systemUUID: systemUUID,
                                    role: .primary, device: .init(size: 256 << 20, uuid: deviceUUID, name: "dax0.0"))
        var c = ref_superblock()
        copy(superblock.encoded(), into: &c)
        #expect(c.magic == 0x87b2_82ff)
        #expect(c.version == 48)
        #expect(c.log_offset == 2 << 20)
        #expect(c.log_length == 8 << 20)
        #expect(c.alloc_unit == 2 << 20)
        #expect(c.format_major == 2 && c.format_minor == 2)
        #expect(bytes(of: c.fs_uuid) == fsUUID.bytes)
        #expect(bytes(of: c.device_uuid) == deviceUUID.bytes)
        #expect(bytes(of: c.system_uuid) == systemUUID.bytes)
        #expect(c.flags == 1)
        #expect(c.devices.size == 256 << 20)
        #expect(bytes(of: c.devices.uuid) == deviceUUID.bytes)
        #expect(bytes(of: c.devices.name).prefix(7) == Array("dax0.0\0".utf8)[...])
        let crcInput = withUnsafeBytes(of: &c) { Array($0.prefix(Superblock.crcOffset)) }
        #expect(c.crc == Checksum.crc32(crcInput[...]))
    }

    @Test func encodedLogHeaderReadsBackThroughTheCStruct() {
        var header = LogHeader(length: 8 << 20)
        header.nextIndex = 7
        header.nextSeqnum = 7
        var c = ref_log_header()
        copy(header.encoded(), into: &c)
        #expect(c.magic == 0xbad_cafe_f00d)
        #expect(c.length == 8 << 20)
        #expect(c.last_index == 15_420 - 1)
        #expect(c.next_seqnum == 7 && c.next_index == 7)
    }

    @Test func encodedFileEntryReadsBackThroughTheCStruct() throws {
        let extents = [SimpleExtent(device: 0, offset: 12 << 20, length: 4 << 20),
                       SimpleExtent(device: 1, offset: 2 << 20, length: 2 << 20)]
        let file = FileEntry(path: try RelativePath("dir/file"), uid: 1000, gid: 100, mode: 0o644,
                             fmap: Fmap(fileSize: 5 << 20, extents: .simple(extents)))
        var c = ref_log_entry()
        copy(try LogEntry.file(file).encoded(seqnum: 3), into: &c)
        #expect(c.seqnum == 3 && c.type == 0)
        #expect(c.file.size == 5 << 20 && c.file.flags == 2)
        #expect(c.file.uid == 1000 && c.file.gid == 100 && c.file.mode == 0o644)
        #expect(bytes(of: c.file.relpath).prefix(9) == Array("dir/file\0".utf8)[...])
        #expect(c.file.fmap.ext_type == 0)
        #expect(c.file.fmap.simple.nextents == 2)
        let stored = withUnsafeBytes(of: c.file.fmap.simple.extents) { Array($0.bindMemory(to: ref_simple_extent.self).prefix(2)) }
        #expect(stored.map { [$0.devindex, $0.offset, $0.length] } == [[0, 12 << 20, 4 << 20], [1, 2 << 20, 2 << 20]])
    }

    @Test func encodedInterleavedFmapReadsBackThroughTheCStruct() throws {
        let strips = (0..<3).map { SimpleExtent(device: UInt32($0), offset: 4 << 20, length: 2 << 20) }
        let fmap = Fmap(fileSize: 6 << 20, extents: .interleaved([InterleavedExtent(chunkSize: 2 << 20, byteCount: 6 << 20, strips: strips)]))
        let file = FileEntry(path: try RelativePath("striped"), uid: 0, gid: 0, mode: 0o600, fmap: fmap)
        var c = ref_log_entry()
        copy(try LogEntry.file(file).encoded(seqnum: 0), into: &c)
        #expect(c.file.fmap.ext_type == 1)
        #expect(c.file.fmap.interleaved.niext == 1)
        #expect(c.file.fmap.interleaved.extents.nstrips == 3)
        #expect(c.file.fmap.interleaved.extents.chunk_size == 2 << 20)
        #expect(c.file.fmap.interleaved.extents.strips.2.devindex == 2)
    }

    @Test func encodedMkdirAndDaxdevEntriesReadBackThroughTheCStruct() throws {
        var c = ref_log_entry()
        copy(try LogEntry.mkdir(DirectoryEntry(path: try RelativePath("a/b"), uid: 5, gid: 6, mode: 0o755)).encoded(seqnum: 1), into: &c)
        #expect(c.type == 1 && c.mkdir.uid == 5 && c.mkdir.gid == 6 && c.mkdir.mode == 0o755)
        #expect(bytes(of: c.mkdir.relpath).prefix(4) == Array("a/b\0".utf8)[...])
        let uuid = MediaUUID.random()
        copy(try LogEntry.addDevice(DeviceEntry(index: 2, size: 1 << 30, uuid: uuid)).encoded(seqnum: 2), into: &c)
        #expect(c.type == 3 && c.daxdev.index == 2 && c.daxdev.size == 1 << 30)
        #expect(bytes(of: c.daxdev.uuid) == uuid.bytes)
    }

    private func copy<T>(_ encoded: [UInt8], into value: inout T) {
        #expect(encoded.count == MemoryLayout<T>.size)
        withUnsafeMutableBytes(of: &value) { $0.copyBytes(from: encoded) }
    }

    private func bytes<T>(of tuple: T) -> [UInt8] {
        withUnsafeBytes(of: tuple) { Array($0) }
    }
}
