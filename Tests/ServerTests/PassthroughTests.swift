import Fmap
import Foundation
import LogCapture
import Server
import SystemPackage
import Testing

/// A staging policy for these tests: `*.dax` files are DAX, everything else is staged under
/// `staged/`; files whose name contains "auto" are committed on their last release; layouts
/// stripe over every device in 2 MiB chunks.
let stagingPolicy = """
    function placement(file)
      if file.path:find("%.dax$") then return "dax" end
      return "passthrough", "staged" .. file.path
    end

    function on_release(file)
      return file.path:find("auto") ~= nil and file.size > 0
    end

    function layout(file, devices)
      local chunk = 2097152
      local n = #devices
      local chunks = (file.size + chunk - 1) // chunk
      local per = ((chunks + n - 1) // n) * chunk
      local strips = {}
      for i = 1, n do strips[i] = alloc(devices[i], per, chunk) end
      return { ext_type = "interleaved",
               extents = { { nstrips = n, chunk_size = chunk, nbytes = file.size, strips = strips } } }
    end
    """

/// A mounted file system with a staging directory and `stagingPolicy`.
func mountWithStaging(reusing previous: MountedFileSystem? = nil, log: CapturedLog = CapturedLog()) throws -> MountedFileSystem {
    try MountedFileSystem(deviceCount: 2, reusing: previous, logger: log.logger, staging: true, layoutFor: { paths in
        // Beside the devices, so that closing the file system removes it too.
        let folder = (paths[0] as NSString).deletingLastPathComponent + "/policy"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try stagingPolicy.write(toFile: "\(folder)/staging.lua", atomically: true, encoding: .utf8)
        return try policyFactory("\(folder)/staging.lua", devices: paths, log: log)
    })
}

/// Applies the same sequence of mutations to a directory; the result must not depend on
/// whether it is tmpfs or the mount's passthrough files.
func mutate(_ directory: String) throws {
    let a = "\(directory)/a.bin", b = "\(directory)/b.bin", c = "\(directory)/c.bin"
    _ = FileManager.default.createFile(atPath: a, contents: Data(randomBytes(100_000, seed: 1)))
    let handle = try FileDescriptor.open(FilePath(a), .readWrite)
    _ = try handle.writeAll(toAbsoluteOffset: 50_000, randomBytes(80_000, seed: 2))
    _ = try handle.writeAll(toAbsoluteOffset: 300_000, randomBytes(10, seed: 3))
    try handle.close()
    #expect(truncate(a, 70_000) == 0)
    #expect(truncate(a, 200_000) == 0)
    #expect(rename(a, b) == 0)
    _ = FileManager.default.createFile(atPath: c, contents: Data(randomBytes(5, seed: 4)))
    #expect(unlink(c) == 0)
    _ = FileManager.default.createFile(atPath: "\(directory)/d.bin", contents: Data(randomBytes(4096, seed: 5)))
}

/// Names, sizes and contents of the regular files in `directory`.
func snapshot(_ directory: String) throws -> [String: [UInt8]] {
    var files: [String: [UInt8]] = [:]
    for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
        files[name] = try readFile("\(directory)/\(name)")
    }
    return files
}

func stats(_ fs: MountedFileSystem) throws -> [String: UInt64] {
    try JSONDecoder().decode([String: UInt64].self, from: Data((xattr(fs.mountpoint, "user.famfs.stats") ?? "{}").utf8))
}

@Suite("Passthrough files and commit to DAX", .serialized)
struct PassthroughTests {
    @Test("write, overwrite, truncate, rename and unlink behave as on tmpfs, with the kernel doing the I/O")
    func behavesLikeTmpfs() throws {
        let fs = try mountWithStaging()
        defer { fs.close() }
        let reference = "\(fs.directory)/reference"
        try FileManager.default.createDirectory(atPath: reference, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: fs.path("work"), withIntermediateDirectories: true)
        try mutate(reference)
        try mutate(fs.path("work"))
        #expect(try snapshot(fs.path("work")) == snapshot(reference))
        #expect(xattr(fs.path("work/b.bin"), "user.famfs.mode") == "passthrough")
        let counters = try stats(fs)
        #expect(counters["passthrough_reads_forwarded", default: 0] == 0, "\(counters)")
        #expect(counters["passthrough_writes_forwarded", default: 0] == 0, "\(counters)")
        // Each file is a real file under the staging directory. It keeps the name the policy
        // gave it at create (FileManager writes through a temporary name, then renames), and
        // renames only update the mount path it records.
        let staged = try FileManager.default.subpathsOfDirectory(atPath: fs.stagingDirectory).compactMap { path -> [UInt8]? in
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: "\(fs.stagingDirectory)/\(path)", isDirectory: &isDirectory)
            return isDirectory.boolValue ? nil : try readFile("\(fs.stagingDirectory)/\(path)")
        }
        #expect(Set(staged) == Set(try snapshot(fs.path("work")).values))
    }

    @Test("cp of a 64 MiB file, then commit: striped DAX, same bytes, staged copy gone, still DAX after remount")
    func copyThenCommit() throws {
        let fs = try mountWithStaging()
        defer { fs.close() }
        let source = "\(fs.directory)/source.bin"
        let bytes = randomBytes(64 << 20)
        _ = FileManager.default.createFile(atPath: source, contents: Data(bytes))
        let cp = try Process.run(URL(fileURLWithPath: "/bin/cp"), arguments: [source, fs.path("big.bin")])
        cp.waitUntilExit()
        #expect(cp.terminationStatus == 0)
        #expect(xattr(fs.path("big.bin"), "user.famfs.mode") == "passthrough")
        let setfattr = try Process.run(URL(fileURLWithPath: "/usr/bin/setfattr"), arguments: ["-n", "user.famfs.commit", "-v", "1", fs.path("big.bin")])
        setfattr.waitUntilExit()
        #expect(setfattr.terminationStatus == 0)
        #expect(xattr(fs.path("big.bin"), "user.famfs.mode") == "dax")
        let fmap = try JSONDecoder().decode(Fmap.self, from: Data(try #require(xattr(fs.path("big.bin"), "user.famfs.fmap")).utf8))
        guard case .interleaved(let extents) = fmap.extents else { throw KernelFmap.Rejected(description: "not striped") }
        #expect(Set(extents[0].strips.map(\.device)) == [0, 1])
        #expect(try readFile(fs.path("big.bin")) == bytes)
        #expect(!FileManager.default.fileExists(atPath: "\(fs.stagingDirectory)/staged/big.bin"))
        fs.unmount()

        let again = try mountWithStaging(reusing: fs)
        defer { again.unmount() }
        #expect(xattr(again.path("big.bin"), "user.famfs.mode") == "dax")
        #expect(try readFile(again.path("big.bin")) == bytes)
    }

    @Test("on_release commits when the policy says so; a writable handle blocks a commit")
    func commitOnRelease() throws {
        let fs = try mountWithStaging()
        defer { fs.close() }
        let bytes = randomBytes(3 << 20)
        _ = FileManager.default.createFile(atPath: fs.path("auto.bin"), contents: Data(bytes))
        // RELEASE reaches the daemon just after close returns.
        var mode = xattr(fs.path("auto.bin"), "user.famfs.mode")
        for _ in 0..<50 where mode != "dax" {
            usleep(20_000)
            mode = xattr(fs.path("auto.bin"), "user.famfs.mode")
        }
        #expect(mode == "dax")
        #expect(try readFile(fs.path("auto.bin")) == bytes)

        _ = FileManager.default.createFile(atPath: fs.path("held.bin"), contents: Data(bytes))
        let writer = try FileDescriptor.open(FilePath(fs.path("held.bin")), .writeOnly)
        defer { try? writer.close() }
        let setfattr = try Process.run(URL(fileURLWithPath: "/usr/bin/setfattr"), arguments: ["-n", "user.famfs.commit", "-v", "1", fs.path("held.bin")])
        setfattr.waitUntilExit()
        #expect(setfattr.terminationStatus != 0)
        #expect(xattr(fs.path("held.bin"), "user.famfs.mode") == "passthrough")
    }

    @Test("a reader open across a commit keeps reading; meanwhile new readers join it and writers get EBUSY; then opens are DAX")
    func handlesOpenAcrossACommit() throws {
        let fs = try mountWithStaging()
        defer { fs.close() }
        let bytes = randomBytes(4 << 20)
        let path = fs.path("across.bin")
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        let early = try FileDescriptor.open(FilePath(path), .readOnly)
        let setfattr = try Process.run(URL(fileURLWithPath: "/usr/bin/setfattr"), arguments: ["-n", "user.famfs.commit", "-v", "1", path])
        setfattr.waitUntilExit()
        #expect(setfattr.terminationStatus == 0)
        #expect(xattr(path, "user.famfs.mode") == "dax")

        #expect(try readFile(path) == bytes, "a new reader while the early one is open")
        #expect(throws: Errno.resourceBusy) { try FileDescriptor.open(FilePath(path), .readWrite) }
        var buffer = [UInt8](repeating: 0, count: bytes.count)
        let count = try buffer.withUnsafeMutableBytes { try early.read(fromAbsoluteOffset: 0, into: $0) }
        #expect(count == bytes.count && buffer == bytes, "the early reader")
        try early.close()

        let writer = try FileDescriptor.open(FilePath(path), .readWrite)
        #expect(try writer.writeAll(toAbsoluteOffset: 1 << 20, [1, 2, 3]) == 3)
        try writer.close()
        var expected = bytes
        expected.replaceSubrange((1 << 20)..<((1 << 20) + 3), with: [1, 2, 3])
        #expect(try readFile(path) == expected)
        #expect(try stats(fs)["dax_writes", default: 0] > 0, "the write went to device memory")
    }

    @Test("a time before 1970 set on a passthrough file is kept, and the daemon keeps serving")
    func timesBeforeTheEpoch() throws {
        let fs = try mountWithStaging()
        defer { fs.close() }
        let path = fs.path("old.bin")
        _ = FileManager.default.createFile(atPath: path, contents: Data([1, 2, 3]))
        // FUSE carries the seconds as a two's complement u64: -315619200 is 1960-01-01.
        var times = [timespec(tv_sec: -315_619_200, tv_nsec: 0), timespec(tv_sec: -315_619_200, tv_nsec: 500)]
        #expect(utimensat(AT_FDCWD, path, &times, 0) == 0, "\(String(cString: strerror(errno)))")
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mtim.tv_sec == -315_619_200 && info.st_atim.tv_sec == -315_619_200)
        #expect(try readFile(path) == [1, 2, 3])
        #expect(try FileManager.default.contentsOfDirectory(atPath: fs.mountpoint).contains("old.bin"))
    }

    @Test("a commit logs the owner and mode the file has then (chmod and chown of the staged file), and a remount keeps them; it keeps the file's modification time")
    func commitKeepsOwnerAndMode() throws {
        let fs = try mountWithStaging()
        defer { fs.close() }
        let path = fs.path("private.bin")
        _ = FileManager.default.createFile(atPath: path, contents: Data(randomBytes(1 << 20)))
        #expect(chmod(path, 0o600) == 0)
        #expect(chown(path, 1234, 2345) == 0)
        var times = [timespec(tv_sec: 978_307_200, tv_nsec: 0), timespec(tv_sec: 978_307_200, tv_nsec: 0)] // 2001-01-01, as cp -p sets
        #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
        let setfattr = try Process.run(URL(fileURLWithPath: "/usr/bin/setfattr"), arguments: ["-n", "user.famfs.commit", "-v", "1", path])
        setfattr.waitUntilExit()
        #expect(setfattr.terminationStatus == 0)
        #expect(xattr(path, "user.famfs.mode") == "dax")
        func owner(_ path: String) -> (UInt32, UInt32, UInt32) {
            var info = stat()
            guard stat(path, &info) == 0 else { return (0, 0, 0) }
            return (info.st_uid, info.st_gid, UInt32(info.st_mode) & 0o7777)
        }
        #expect(owner(path) == (1234, 2345, 0o600))
        var info = stat()
        #expect(stat(path, &info) == 0 && info.st_mtim.tv_sec == 978_307_200, "mtime \(info.st_mtim.tv_sec)")
        fs.unmount()
        let again = try mountWithStaging(reusing: fs)
        defer { again.unmount() }
        #expect(owner(again.path("private.bin")) == (1234, 2345, 0o600))
    }

    @Test("a DAX file whose path famfs's log cannot hold is refused at create and at rename, ENAMETOOLONG")
    func longDaxPathsAreRefusedAtCreate() throws {
        let fs = try mountWithStaging()
        defer { fs.close() }
        let long = String(repeating: "y", count: 76) + ".dax"
        #expect(open(fs.path(long), O_CREAT | O_WRONLY, 0o644) == -1 && errno == ENAMETOOLONG)
        let short = "short.dax"
        let descriptor = open(fs.path(short), O_CREAT | O_WRONLY, 0o644)
        #expect(descriptor >= 0)
        close(descriptor)
        #expect(rename(fs.path(short), fs.path(long)) == -1 && errno == ENAMETOOLONG)
        // A passthrough file is not logged until it is committed, so its path may be longer.
        let staged = String(repeating: "z", count: 90)
        _ = FileManager.default.createFile(atPath: fs.path(staged), contents: Data([7]))
        #expect(try readFile(fs.path(staged)) == [7])
    }

    @Test("a new file takes the name of one renamed away (log rotation, lock files): both keep their bytes, also after a remount")
    func aNameFreedByRenameCanBeCreatedAgain() throws {
        let log = CapturedLog()
        let fs = try mountWithStaging(log: log)
        defer { fs.close() }
        try FileManager.default.createDirectory(atPath: fs.path("logs"), withIntermediateDirectories: true)
        let (first, second, third) = (randomBytes(1000, seed: 1), randomBytes(2000, seed: 2), randomBytes(3000, seed: 3))
        _ = FileManager.default.createFile(atPath: fs.path("logs/app.log"), contents: Data(first))
        #expect(rename(fs.path("logs/app.log"), fs.path("logs/app.log.1")) == 0)
        #expect(FileManager.default.createFile(atPath: fs.path("logs/app.log"), contents: Data(second)), "\(log.messages)")
        #expect(rename(fs.path("logs/app.log"), fs.path("logs/app.log.2")) == 0)
        #expect(FileManager.default.createFile(atPath: fs.path("logs/app.log"), contents: Data(third)), "\(log.messages)")
        let expected = ["app.log.1": first, "app.log.2": second, "app.log": third]
        #expect(try snapshot(fs.path("logs")) == expected)
        fs.unmount()
        let again = try mountWithStaging(reusing: fs)
        defer { again.unmount() }
        #expect(try snapshot(again.path("logs")) == expected)
    }

    @Test("a commit on release that fails the same way again is logged once, not at every close")
    func aRepeatedReleaseCommitFailureIsLoggedOnce() throws {
        let log = CapturedLog()
        let fs = try mountWithStaging(log: log)
        defer { fs.close() }
        // More than both devices hold: every commit its closes ask for fails for space.
        let path = fs.path("auto-too-big.bin")
        let file = try FileDescriptor.open(FilePath(path), .writeOnly, options: [.create], permissions: .ownerReadWrite)
        try file.resize(to: Int64(2 * MountedFileSystem.deviceSize + (8 << 20)))
        try file.close()
        for _ in 0..<3 { try FileDescriptor.open(FilePath(path), .readOnly).close() }
        #expect(waitUntil(timeout: 10) { log.messages.contains { $0.contains("commit of /auto-too-big.bin on release failed") } })
        usleep(300_000)
        #expect(log.messages.filter { $0.contains("on release failed") }.count == 1, "\(log.messages)")
        #expect(xattr(path, "user.famfs.mode") == "passthrough")
    }

    @Test("staged files come back after a remount")
    func stagedFilesSurviveARemount() throws {
        let fs = try mountWithStaging()
        defer { fs.close() }
        let bytes = randomBytes(123_457)
        try FileManager.default.createDirectory(atPath: fs.path("dir"), withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: fs.path("dir/kept.bin"), contents: Data(bytes))
        #expect(rename(fs.path("dir/kept.bin"), fs.path("dir/renamed.bin")) == 0)
        fs.unmount()
        let again = try mountWithStaging(reusing: fs)
        defer { again.unmount() }
        #expect(try readFile(again.path("dir/renamed.bin")) == bytes)
        #expect(xattr(again.path("dir/renamed.bin"), "user.famfs.mode") == "passthrough")
    }
}
