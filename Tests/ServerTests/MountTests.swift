import Fmap
import Foundation
import Metadata
import Server
import SystemPackage
import Testing

/// Random bytes, so that misplaced data cannot pass by accident.
func randomBytes(_ count: Int, seed: UInt64 = .random(in: 0...UInt64.max)) -> [UInt8] {
    // SplitMix64: fast enough for many MiB in a debug build; a fixed seed repeats the bytes.
    var state = seed
    var bytes = [UInt8](repeating: 0, count: count)
    bytes.withUnsafeMutableBytes { buffer in
        for start in stride(from: 0, to: count, by: 8) {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            withUnsafeBytes(of: z) { word in
                buffer[start..<min(start + 8, count)].copyBytes(from: word.prefix(count - start))
            }
        }
    }
    return bytes
}

/// Creates `path` with `size` bytes of memory (ftruncate), writes `data` at 0 and closes it.
func writeFile(_ path: String, size: Int, data: [UInt8]) throws {
    let file = try FileDescriptor.open(FilePath(path), .readWrite, options: [.create, .exclusiveCreate],
                                       permissions: [.ownerReadWrite, .groupRead, .otherRead])
    defer { try? file.close() }
    try file.resize(to: Int64(size))
    _ = try file.writeAll(toAbsoluteOffset: 0, data)
}

func readFile(_ path: String) throws -> [UInt8] {
    try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
}

/// An extended attribute's value as `getfattr` (from the attr package) prints it, or nil.
func xattr(_ path: String, _ name: String) -> String? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/getfattr")
    process.arguments = ["--only-values", "-n", name, path]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return nil }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return process.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
}

/// Reads `count` bytes of a device file directly, bypassing the mount.
func readDevice(_ path: String, at offset: UInt64, count: Int) throws -> [UInt8] {
    let file = try FileDescriptor.open(FilePath(path), .readOnly)
    defer { try? file.close() }
    var buffer = [UInt8](repeating: 0, count: count)
    let read = try buffer.withUnsafeMutableBytes { try file.read(fromAbsoluteOffset: Int64(offset), into: $0) }
    return Array(buffer.prefix(read))
}

@Suite("A real mount", .serialized)
struct MountTests {
    @Test func directoriesAndFilesRoundTripThroughTheMount() throws {
        try withMountedFileSystem { fs in
            try FileManager.default.createDirectory(atPath: fs.path("data/sets"), withIntermediateDirectories: true)
            let payload = randomBytes(3 << 20)
            try writeFile(fs.path("data/sets/a.bin"), size: payload.count, data: payload)
            #expect(try readFile(fs.path("data/sets/a.bin")) == payload)
            let listing = try FileManager.default.contentsOfDirectory(atPath: fs.path("data/sets"))
            #expect(listing == ["a.bin"])
            let attributes = try FileManager.default.attributesOfItem(atPath: fs.path("data/sets/a.bin"))
            #expect(attributes[.size] as? Int == payload.count)
        }
    }

    @Test("a logged directory's or file's mode and owner may be set to what they are (tar, cp -a), not changed")
    func loggedModeAndOwnerCanOnlyBeSetToThemselves() throws {
        try withMountedFileSystem { fs in
            #expect(mkdir(fs.path("dir"), 0o755) == 0)
            try writeFile(fs.path("dir/f.bin"), size: 2 << 20, data: [1])
            for path in [fs.path("dir"), fs.path("dir/f.bin")] {
                let mode = try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
                #expect(chmod(path, mode_t(mode)) == 0, "\(path): same mode")
                #expect(chown(path, 0, 0) == 0, "\(path): same owner")
                #expect(chmod(path, 0o700) == -1 && errno == EPERM, "\(path): another mode")
                #expect(chown(path, 1000, 1000) == -1 && errno == EPERM, "\(path): another owner")
                #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == mode)
            }
        }
    }

    @Test func readsReturnTheBytesAtTheResolvedDeviceOffsets() throws {
        try withMountedFileSystem { fs in
            let payload = randomBytes(5 << 20 + 123)
            try writeFile(fs.path("f.bin"), size: payload.count, data: payload)
            let json = try #require(xattr(fs.path("f.bin"), "user.famfs.fmap"))
            let fmap = try JSONDecoder().decode(Fmap.self, from: Data(json.utf8))
            #expect(fmap.fileSize == UInt64(payload.count))
            let resolver = FmapResolver(fmap)
            for offset in stride(from: 0, to: payload.count, by: 65_537) {
                let location = try #require(resolver.resolve(UInt64(offset)))
                let count = min(4096, Int(location.contiguousBytes))
                let onDevice = try readDevice(fs.devicePaths[Int(location.device)], at: location.deviceOffset, count: count)
                #expect(onDevice == Array(payload[offset..<(offset + count)]), "offset \(offset)")
            }
            #expect(xattr(fs.path("f.bin"), "user.famfs.mode") == "dax")
        }
    }

    @Test func theTreeAndBytesSurviveARemount() throws {
        let first = try MountedFileSystem()
        defer { first.close() }
        try FileManager.default.createDirectory(atPath: first.path("a/b"), withIntermediateDirectories: true)
        let payload = randomBytes(2 << 20)
        try writeFile(first.path("a/b/kept.bin"), size: payload.count, data: payload)
        let fmapBefore = xattr(first.path("a/b/kept.bin"), "user.famfs.fmap")
        first.unmount()

        let second = try MountedFileSystem(reusing: first)
        defer { second.unmount() }
        #expect(try readFile(second.path("a/b/kept.bin")) == payload)
        #expect(xattr(second.path("a/b/kept.bin"), "user.famfs.fmap") == fmapBefore)
        #expect(try FileManager.default.contentsOfDirectory(atPath: second.path("")).sorted() == [".meta", "a"])
    }

    @Test func famfsFilesKeepTheSizeTheyWereAllocatedWith() throws {
        try withMountedFileSystem { fs in
            try writeFile(fs.path("fixed.bin"), size: 4 << 20, data: [1, 2, 3])
            #expect(truncate(fs.path("fixed.bin"), 8 << 20) == -1 && errno == EPERM)
            let file = try FileDescriptor.open(FilePath(fs.path("fixed.bin")), .writeOnly)
            defer { try? file.close() }
            #expect(throws: Errno.fileTooLarge) { try file.writeAll(toAbsoluteOffset: Int64(4 << 20) - 1, [1, 2]) }
            #expect(unlink(fs.path("fixed.bin")) == -1 && errno == EPERM)
        }
    }

    @Test("a first size beyond what all devices hold is ENOSPC before any policy runs; the file can still be sized")
    func aSizeNoDevicesCanHoldIsTooLarge() throws {
        try withMountedFileSystem { fs in
            let path = fs.path("huge.bin")
            #expect(FileManager.default.createFile(atPath: path, contents: nil))
            for size in [off_t.max, off_t(2 * MountedFileSystem.deviceSize + 1)] {
                #expect(truncate(path, size) == -1 && errno == ENOSPC, "size \(size)")
            }
            #expect(truncate(path, 2 << 20) == 0)
            #expect(xattr(path, "user.famfs.mode") == "dax")
        }
    }

    @Test("statfs counts free inodes as the log's free entries: a mkdir and a sized file take one each")
    func statfsCountsLogEntriesAsInodes() throws {
        try withMountedFileSystem { fs in
            func counts() -> (files: UInt64, free: UInt64) {
                var info = statvfs()
                _ = statvfs(fs.mountpoint, &info)
                return (UInt64(info.f_files), UInt64(info.f_ffree))
            }
            let before = counts()
            #expect(before.free > 0 && before.free < before.files)
            #expect(mkdir(fs.path("d"), 0o755) == 0)
            #expect(counts().free == before.free - 1)
            try writeFile(fs.path("d/f.bin"), size: 2 << 20, data: [1])
            let after = counts()
            #expect(after.free == before.free - 2)
            #expect(after.files == before.files, "used plus free entries stay the same")
        }
    }

    @Test func metaFilesShowTheSuperblockAndLogReadOnly() throws {
        try withMountedFileSystem { fs in
            let superblock = try readFile(fs.path(".meta/.superblock"))
            #expect(superblock.count == 2 << 20)
            #expect(superblock == (try readDevice(fs.devicePaths[0], at: 0, count: 2 << 20)))
            #expect(throws: (any Error).self) { try FileDescriptor.open(FilePath(fs.path(".meta/.log")), .writeOnly) }
            #expect(mkdir(fs.path(".meta/x"), 0o755) == -1)
        }
    }

    @Test func fullDevicesAnswerENOSPCAndKeepServing() throws {
        try withMountedFileSystem(deviceCount: 1) { fs in
            let file = try FileDescriptor.open(FilePath(fs.path("huge.bin")), .readWrite, options: [.create],
                                               permissions: .ownerReadWrite)
            defer { try? file.close() }
            #expect(throws: Errno.noSpace) { try file.resize(to: 1 << 30) }
            try writeFile(fs.path("small.bin"), size: 2 << 20, data: [7])
            #expect(try readFile(fs.path("small.bin")).first == 7)
        }
    }
}
