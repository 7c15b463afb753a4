import Foundation
import SystemPackage
import Testing

/// The mount's options in /proc/self/mounts.
func mountOptions(_ mountpoint: String) -> [String] {
    let mounts = (try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) ?? ""
    guard let line = mounts.split(separator: "\n").first(where: { $0.split(separator: " ").dropFirst().first.map(String.init) == mountpoint }) else { return [] }
    return line.split(separator: " ")[3].split(separator: ",").map(String.init)
}

/// Runs a shell command as `uid` (gid the same, no supplementary groups); its exit status.
func runAs(_ uid: Int, _ command: String) throws -> Int32 {
    let process = try Process.run(URL(fileURLWithPath: "/usr/bin/setpriv"),
                                  arguments: ["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", "/bin/sh", "-c", command])
    process.waitUntilExit()
    return process.terminationStatus
}

@Suite("Permissions", .serialized)
struct PermissionTests {
    @Test("mounted with default_permissions and without allow_other: other users cannot reach the mount")
    func defaultsKeepOthersOut() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        try daemon.start(policy: "\(repositoryRoot)/policies/stripe.lua")
        let options = mountOptions(daemon.mountpoint)
        #expect(options.contains("default_permissions"), "\(options)")
        #expect(!options.contains("allow_other"), "\(options)")
        try writeFile("\(daemon.mountpoint)/root.bin", size: 2 << 20, data: [1])
        #expect(try runAs(1000, "ls \(daemon.mountpoint)") != 0)
        #expect(try runAs(1000, "cat \(daemon.mountpoint)/root.bin > /dev/null") != 0)
    }

    @Test("with allow_other: a file one uid created is readable but not writable by another; .meta is read-only")
    func ownersAreEnforced() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        try daemon.startStaging(options: ["-o", "allow_other"])
        #expect(mountOptions(daemon.mountpoint).contains("allow_other"))
        let shared = "\(daemon.mountpoint)/shared"
        #expect(try runAs(0, "umask 0 && mkdir \(shared)") == 0)

        #expect(try runAs(1000, "echo mine > \(shared)/staged.txt") == 0)
        #expect(try runAs(1000, "truncate -s 2M \(shared)/memory.dax && echo mine | dd of=\(shared)/memory.dax conv=notrunc status=none") == 0)
        for name in ["staged.txt", "memory.dax"] {
            let path = "\(shared)/\(name)"
            #expect(try FileManager.default.attributesOfItem(atPath: path)[.ownerAccountID] as? Int == 1000, "\(name)")
            #expect(try runAs(1001, "head -c 5 \(path) | grep -q mine") == 0, "\(name): others may read")
            #expect(try runAs(1001, "echo theirs | dd of=\(path) conv=notrunc status=none") != 0, "\(name): others may not write")
            #expect(try runAs(1001, "chmod 666 \(path)") != 0, "\(name): others may not chmod")
            #expect(try runAs(1000, "echo again | dd of=\(path) conv=notrunc status=none") == 0, "\(name): the owner may write")
        }
        #expect(try runAs(1001, "truncate -s 4M \(shared)/staged.txt") != 0)
        #expect(try runAs(1001, "rm \(shared)/staged.txt") == 0, "the directory is 0777 without the sticky bit")

        for name in [".superblock", ".log"] {
            let path = "\(daemon.mountpoint)/.meta/\(name)"
            let mode = try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
            #expect(mode & 0o222 == 0, "\(name) mode \(String(mode, radix: 8))")
            #expect(throws: Errno.self, "even root cannot open \(name) for writing") {
                try FileDescriptor.open(FilePath(path), .writeOnly).close()
            }
            #expect(try runAs(0, "chmod 666 \(path)") != 0)
            #expect(try runAs(0, "truncate -s 0 \(path)") != 0)
        }
        #expect(try runAs(1000, "head -c 8 \(daemon.mountpoint)/.meta/.superblock > /dev/null") == 0, ".meta is readable")
    }
}

/// Files named on0… go on device 0, on1… on device 1; others take half on device 1, then
/// half on device 0, so a full device 0 fails a layout that already allocated.
let halfAndHalfPolicy = """
    function layout(file, devices)
      local name = file.path:match("([^/]+)$")
      if name:find("^on0") then return { ext_type = "simple", extents = { alloc(0, file.size) } } end
      if name:find("^on1") then return { ext_type = "simple", extents = { alloc(1, file.size) } } end
      local half = (file.size + 1) // 2
      local second = alloc(1, half)
      local first = alloc(0, half)
      return { ext_type = "simple", extents = { first, second } }
    end
    """

@Suite("Full devices", .serialized)
struct FullDeviceTests {
    @Test("allocation failures give ENOSPC and leave nothing half-allocated, also after a restart")
    func enospcLeavesNothingBehind() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let policy = "\(daemon.directory)/half.lua"
        try halfAndHalfPolicy.write(toFile: policy, atomically: true, encoding: .utf8)
        try daemon.start(policy: policy)
        let mount = daemon.mountpoint
        func size(_ name: String, _ bytes: Int) throws {
            let file = try FileDescriptor.open(FilePath("\(mount)/\(name)"), .readWrite, options: .create, permissions: .ownerReadWrite)
            defer { try? file.close() }
            try file.resize(to: Int64(bytes))
        }
        let device1Free = (256 << 20) - (2 << 20)
        let device0Free = Int(try freeBytes(mount)) - device1Free
        #expect(throws: Errno.noSpace) { try size("too-big.bin", 1 << 30) }
        try size("on0-fill.bin", device0Free)

        let free = try freeBytes(mount)
        #expect(free == UInt64(device1Free))
        #expect(throws: Errno.noSpace, "device 0 is full after device 1 gave its half") { try size("both.bin", 8 << 20) }
        #expect(try freeBytes(mount) == free, "device 1's half was released")
        #expect(daemon.log.contains("half.lua:7:") && daemon.log.contains("no contiguous free run"), "\(daemon.log)")
        #expect(throws: Errno.noSpace) { try size("on0-more.bin", 2 << 20) }

        // Every byte device 1 had is still there to take, to the last unit.
        try size("on1-fill.bin", device1Free)
        #expect(try freeBytes(mount) == 0)
        #expect(throws: Errno.noSpace) { try size("on1-more.bin", 1) }

        daemon.send(SIGTERM)
        #expect(daemon.waitForExit() == 0)
        #expect(try runTool("famfs-policy", ["check"] + daemon.devices).status == 0)
        try daemon.start(policy: policy)
        #expect(try freeBytes(mount) == 0)
        for name in ["too-big.bin", "both.bin", "on0-more.bin", "on1-more.bin"] {
            #expect(!FileManager.default.fileExists(atPath: "\(mount)/\(name)"), "\(name) never got memory, so it was never logged")
        }
        #expect(try FileManager.default.attributesOfItem(atPath: "\(mount)/on1-fill.bin")[.size] as? Int == device1Free)
    }

    @Test("a full log answers ENOSPC naming the log, keeps serving, and keeps every entry it took, also after a restart")
    func fullLogRefusesMoreEntries() throws {
        let daemon = try DaemonProcess(deviceCount: 1)
        defer { daemon.stop() }
        let policy = "\(repositoryRoot)/policies/contiguous.lua"
        try daemon.start(policy: policy)
        let mount = daemon.mountpoint
        let content = randomBytes(3 << 20, seed: 5)
        try writeFile("\(mount)/kept.bin", size: content.count, data: content)

        // The smallest log (8 MiB of 544-byte entries) fills after some 15,000 directories.
        var made = 0
        while made < 100_000, mkdir("\(mount)/d\(made)", 0o755) == 0 { made += 1 }
        let failure = errno
        #expect(failure == ENOSPC, "mkdir number \(made + 1) failed with \(Errno(rawValue: failure))")
        #expect(made > 10_000)
        #expect(daemon.log.contains("the log is full"), "\(daemon.log.suffix(2_000))")

        // Sizing a file needs a log entry too: refused, and its memory given back.
        let free = try freeBytes(mount)
        #expect(throws: Errno.noSpace) {
            let file = try FileDescriptor.open(FilePath("\(mount)/late.bin"), .readWrite, options: .create, permissions: .ownerReadWrite)
            defer { try? file.close() }
            try file.resize(to: 2 << 20)
        }
        #expect(try freeBytes(mount) == free)
        #expect(try readFile("\(mount)/kept.bin") == content, "the mount still serves what it has")

        daemon.send(SIGTERM)
        #expect(daemon.waitForExit() == 0)
        #expect(try runTool("famfs-policy", ["check"] + daemon.devices).status == 0)
        try daemon.start(policy: policy)
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: mount))
        #expect((0..<made).allSatisfy { names.contains("d\($0)") }, "every directory that was answered is in the log")
        #expect(!names.contains("d\(made)") && !names.contains("late.bin"))
        #expect(try readFile("\(mount)/kept.bin") == content)
    }
}
