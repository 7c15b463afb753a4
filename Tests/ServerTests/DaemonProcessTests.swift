import Fmap
import Foundation
import SystemPackage
import Testing

@Suite("The famfs-policyd process", .serialized)
struct DaemonProcessTests {
    @Test("SIGTERM unmounts cleanly and exits 0")
    func sigtermUnmounts() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        try daemon.start(policy: "\(repositoryRoot)/policies/stripe.lua")
        try writeFile("\(daemon.mountpoint)/f.bin", size: 2 << 20, data: [1])
        daemon.send(SIGTERM)
        #expect(daemon.waitForExit() == 0)
        #expect(!daemon.isMounted)
        #expect(daemon.log.contains("unmounted; exiting"))
    }

    @Test("the README's quick start: with stage_then_commit.lua, cp of a 64 MiB file ends as a DAX file striped over both devices")
    func quickStartStripesACopiedFile() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        try daemon.start(policy: "\(repositoryRoot)/policies/stage_then_commit.lua", staging: true)
        let source = "\(daemon.directory)/big.bin"
        let bytes = randomBytes(64 << 20)
        _ = FileManager.default.createFile(atPath: source, contents: Data(bytes))
        let cp = try Process.run(URL(fileURLWithPath: "/bin/cp"), arguments: [source, "\(daemon.mountpoint)/big.bin"])
        cp.waitUntilExit()
        #expect(cp.terminationStatus == 0)
        let copy = "\(daemon.mountpoint)/big.bin"
        #expect(waitUntil(timeout: 10) { xattr(copy, "user.famfs.mode") == "dax" }, "\(daemon.log)")
        let fmap = try JSONDecoder().decode(Fmap.self, from: Data(try #require(xattr(copy, "user.famfs.fmap")).utf8))
        guard case .interleaved(let extents) = fmap.extents else { throw KernelFmap.Rejected(description: "not striped: \(fmap)") }
        #expect(Set(extents[0].strips.map(\.device)) == [0, 1])
        #expect(try readFile(copy) == bytes)
        #expect(try FileManager.default.contentsOfDirectory(atPath: daemon.staging).isEmpty, "the staged copy is gone")
    }

    @Test("SIGHUP reloads the policy; a broken one is refused and the old one kept")
    func sighupReloads() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let policy = "\(daemon.directory)/policy.lua"
        let oneDevice = """
            function layout(file, devices)
              return { ext_type = "simple", extents = { alloc(0, file.size, 2097152) } }
            end
            """
        try oneDevice.write(toFile: policy, atomically: true, encoding: .utf8)
        try daemon.start(policy: policy)

        try "function layout(file, devices) return {".write(toFile: policy, atomically: true, encoding: .utf8)
        daemon.send(SIGHUP)
        #expect(waitUntil(timeout: 10) { daemon.log.contains("policy reload refused") })
        try writeFile("\(daemon.mountpoint)/kept.bin", size: 2 << 20, data: [1])
        #expect(xattr("\(daemon.mountpoint)/kept.bin", "user.famfs.fmap")?.contains(#""dev":0"#) == true, "\(daemon.log) mode=\(xattr("\(daemon.mountpoint)/kept.bin", "user.famfs.mode") ?? "nil") running=\(daemon.isMounted)")

        try oneDevice.replacingOccurrences(of: "alloc(0,", with: "alloc(1,").write(toFile: policy, atomically: true, encoding: .utf8)
        daemon.send(SIGHUP)
        #expect(waitUntil(timeout: 10) { daemon.log.contains("reloaded (generation 1)") })
        try writeFile("\(daemon.mountpoint)/moved.bin", size: 2 << 20, data: [1])
        #expect(xattr("\(daemon.mountpoint)/moved.bin", "user.famfs.fmap")?.contains(#""dev":1"#) == true)
    }

    @Test("a SIGHUP or SIGTERM sent once the mount shows up, before the daemon serves, is acted on then rather than killing it or being lost")
    func signalsBeforeServing() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        try daemon.start(policy: "\(repositoryRoot)/policies/stripe.lua", environment: ["FAMFS_POLICYD_FAILPOINT": "mounted:1"])
        #expect(waitUntil(timeout: 10) { daemon.log.contains("failpoint mounted reached") })
        daemon.send(SIGHUP)
        #expect(waitUntil(timeout: 10) { daemon.log.contains("reloaded (generation 1)") }, "\(daemon.log)")
        try writeFile("\(daemon.mountpoint)/served.bin", size: 2 << 20, data: [1])
        #expect(xattr("\(daemon.mountpoint)/served.bin", "user.famfs.mode") == "dax")


        let stopped = try DaemonProcess()
        defer { stopped.stop() }
        try stopped.start(policy: "\(repositoryRoot)/policies/stripe.lua", environment: ["FAMFS_POLICYD_FAILPOINT": "mounted:1"])
        #expect(waitUntil(timeout: 10) { stopped.log.contains("failpoint mounted reached") })
        stopped.send(SIGTERM)
        #expect(stopped.waitForExit() == 0, "\(stopped.log)")
        #expect(!stopped.isMounted)
    }

    @Test("an empty or malformed FAMFS_POLICYD_FAILPOINT neither crashes nor stalls the daemon",
          arguments: ["", ":", "mounted:nan", "mounted:-5"])
    func harmlessFailpointValues(value: String) throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        try daemon.start(policy: "\(repositoryRoot)/policies/stripe.lua", environment: ["FAMFS_POLICYD_FAILPOINT": value])
        try writeFile("\(daemon.mountpoint)/served.bin", size: 2 << 20, data: [1])
        #expect(xattr("\(daemon.mountpoint)/served.bin", "user.famfs.mode") == "dax", "\(daemon.log)")
    }

    @Test("a daemon killed in the middle of a commit leaves the file whole, staged or committed",
          arguments: [("commit-reserved", "passthrough"), ("commit-copying", "passthrough"),
                      ("commit-copied", "passthrough"), ("commit-logged", "dax")])
    func crashDuringCommit(failpoint: String, expectedMode: String) throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let policy = try daemon.writeStagingPolicy()
        try daemon.start(policy: policy, staging: true, environment: ["FAMFS_POLICYD_FAILPOINT": failpoint])
        let bytes = randomBytes(40 << 20 + 4097)
        _ = FileManager.default.createFile(atPath: "\(daemon.mountpoint)/data.bin", contents: Data(bytes))

        let commit = Process()
        commit.executableURL = URL(fileURLWithPath: "\(executablesDirectory)/famfs-policy")
        commit.arguments = ["commit", "--quiet", "\(daemon.mountpoint)/data.bin"]
        commit.standardError = FileHandle.nullDevice
        try commit.run()
        #expect(waitUntil(timeout: 10) { daemon.log.contains("failpoint \(failpoint) reached") })
        daemon.crash()
        commit.waitUntilExit()

        try daemon.start(policy: policy, staging: true)
        let path = "\(daemon.mountpoint)/data.bin"
        #expect(xattr(path, "user.famfs.mode") == expectedMode)
        #expect(try readFile(path) == bytes)
        let staged = try stagedFiles(in: daemon.staging)
        #expect(staged.count == (expectedMode == "passthrough" ? 1 : 0), "a committed file leaves no staged copy after restart: \(staged)")
        // A crashed commit must not leave memory claimed: the file can still be committed.
        if expectedMode == "passthrough" {
            #expect(try runTool("famfs-policy", ["commit", path]).status == 0)
            #expect(xattr(path, "user.famfs.mode") == "dax")
            #expect(try readFile(path) == bytes)
        }
        #expect(try runTool("famfs-policy", ["check"] + daemon.devices).status == 0)
    }

    @Test("a new DAX file reads zeros, also past its size in its last chunk, where an earlier file system's file left bytes")
    func newFilesNeverShowOldBytes() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let policy = "\(repositoryRoot)/policies/stripe.lua"
        try daemon.start(policy: policy)
        let secret = [UInt8](repeating: 0xA5, count: 8 << 20)
        try writeFile("\(daemon.mountpoint)/secret.bin", size: secret.count, data: secret)
        let fmapBefore = try #require(xattr("\(daemon.mountpoint)/secret.bin", "user.famfs.fmap"))
        daemon.send(SIGTERM)
        #expect(daemon.waitForExit() == 0)
        #expect(try runTool("famfs-policy", ["mkfs", "--force"] + daemon.devices).status == 0)

        try daemon.start(policy: policy)
        let path = "\(daemon.mountpoint)/fresh.bin"
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        #expect(truncate(path, off_t(secret.count - 4096)) == 0)
        #expect(xattr(path, "user.famfs.fmap")?.replacingOccurrences(of: "\(secret.count - 4096)", with: "\(secret.count)") == fmapBefore,
                "the new file got the old one's memory, so the test looks where the old bytes were")
        #expect(try readFile(path).allSatisfy { $0 == 0 })
        // Past the size, in the last chunk: what a mapping of the file would show.
        let fmap = try JSONDecoder().decode(Fmap.self, from: Data(try #require(xattr(path, "user.famfs.fmap")).utf8))
        for range in fmap.claimedRanges {
            let device = try FileDescriptor.open(FilePath(daemon.devices[Int(range.device)]), .readOnly)
            defer { try? device.close() }
            var bytes = [UInt8](repeating: 1, count: Int(range.length))
            _ = try bytes.withUnsafeMutableBytes { try device.read(fromAbsoluteOffset: Int64(range.offset), into: $0) }
            #expect(bytes.allSatisfy { $0 == 0 }, "device \(range.device) at \(range.offset): first nonzero \(bytes.firstIndex { $0 != 0 } ?? -1) of \(bytes.count); \(fmap)")
        }
    }

    @Test("commits on release leave a worker free: the mount answers while two files commit, one after the other, and the one committing cannot be renamed or have its mode changed (EBUSY)")
    func releaseCommitsLeaveAWorkerFree() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        // Each step of a copy (a 2 MiB chunk) pauses a second, so a 5 MiB commit takes three.
        try daemon.startStaging(environment: ["FAMFS_POLICYD_FAILPOINT": "commit-copying:1"], options: ["--workers", "2"])
        let contents = [randomBytes(5 << 20, seed: 1), randomBytes(5 << 20, seed: 2)]
        for (i, bytes) in contents.enumerated() {
            _ = FileManager.default.createFile(atPath: "\(daemon.mountpoint)/auto\(i).bin", contents: Data(bytes))
        }
        #expect(waitUntil(timeout: 10) { daemon.log.contains("failpoint commit-copying reached") }, "\(daemon.log)")
        usleep(300_000) // the second release reaches the other worker
        let listing = try FileManager.default.contentsOfDirectory(atPath: daemon.mountpoint)
        #expect(Set(listing).isSuperset(of: ["auto0.bin", "auto1.bin"]))
        // The file being committed cannot be renamed meanwhile: the commit logs it at its path.
        let committing = try #require((0..<2).map { "\(daemon.mountpoint)/auto\($0).bin" }
            .first { xattr($0, "user.famfs.commit_progress") != nil })
        #expect(rename(committing, "\(daemon.mountpoint)/moved.bin") == -1 && errno == EBUSY)
        // Nor can its mode change: the commit logs the mode it read, and a logged mode is fixed.
        #expect(chmod(committing, 0o600) == -1 && errno == EBUSY)
        #expect(!daemon.log.contains("committed /auto"), "the listing waited for a commit to end: \(daemon.log)")
        for (i, bytes) in contents.enumerated() {
            let path = "\(daemon.mountpoint)/auto\(i).bin"
            #expect(waitUntil(timeout: 30) { xattr(path, "user.famfs.mode") == "dax" }, "\(daemon.log)")
            #expect(try readFile(path) == bytes)
        }
    }

    @Test("explicit commits leave a worker free: another meanwhile is EBUSY, the root's stats show the slots, and famfs-policy commit waits its turn")
    func explicitCommitsLeaveAWorkerFree() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        // Two workers, so one may commit; each 2 MiB step of a copy pauses a second.
        try daemon.startStaging(environment: ["FAMFS_POLICYD_FAILPOINT": "commit-copying:1"], options: ["--workers", "2"])
        let contents = [randomBytes(5 << 20, seed: 3), randomBytes(5 << 20, seed: 4)]
        let paths = contents.indices.map { "\(daemon.mountpoint)/held\($0).bin" }
        for (path, bytes) in zip(paths, contents) { _ = FileManager.default.createFile(atPath: path, contents: Data(bytes)) }
        let first = Process()
        first.executableURL = URL(fileURLWithPath: "\(executablesDirectory)/famfs-policy")
        first.arguments = ["commit", "--quiet", paths[0]]
        try first.run()
        #expect(waitUntil(timeout: 10) { daemon.log.contains("failpoint commit-copying reached") }, "\(daemon.log)")

        let listing = try FileManager.default.contentsOfDirectory(atPath: daemon.mountpoint)
        #expect(Set(listing).isSuperset(of: ["held0.bin", "held1.bin"]))
        #expect(!daemon.log.contains("committed /held0"), "the listing waited for the commit to end: \(daemon.log)")
        let refused = try runProgram("/usr/bin/setfattr", ["-n", "user.famfs.commit", "-v", "1", paths[1]])
        #expect(refused.status != 0 && refused.output.contains("Device or resource busy"), "\(refused.output)")
        let stats = try #require(xattr(daemon.mountpoint, "user.famfs.stats"))
        #expect(stats.contains(#""commit_slots":1"#) && stats.contains(#""commits_running":1"#), "\(stats)")
        #expect(!daemon.log.contains("committed /held0"), "these answers waited for the commit to end: \(daemon.log)")

        let gaveUp = try runTool("famfs-policy", ["commit", "--max-wait", "0.3", paths[1]])
        #expect(gaveUp.status == 1 && gaveUp.output.contains("\(paths[1]): every commit slot stayed busy for 0.3 s (--max-wait)"),
                "\(gaveUp.output)")
        #expect(xattr(paths[1], "user.famfs.mode") == "passthrough")
        let waited = try runTool("famfs-policy", ["commit", paths[1]])
        #expect(waited.status == 0, "\(waited.output)")
        #expect(waited.output.contains("waiting for the other commits to finish") && waited.output.contains("committed \(paths[1])"),
                "\(waited.output)")
        first.waitUntilExit()
        #expect(first.terminationStatus == 0)
        for (path, bytes) in zip(paths, contents) {
            #expect(xattr(path, "user.famfs.mode") == "dax", "\(daemon.log)")
            #expect(try readFile(path) == bytes)
        }
    }

    @Test("famfs-policy commit waits for a commit a close started, reports a DAX file as already DAX, and refuses a file outside a mount")
    func commitCommandOutcomes() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        try daemon.startStaging(environment: ["FAMFS_POLICYD_FAILPOINT": "commit-copying:1"])
        let path = "\(daemon.mountpoint)/auto.bin"
        let bytes = randomBytes(3 << 20)
        // Its last close commits it (the policy commits "auto" files), pausing a second at the failpoint.
        let writer = Thread { _ = FileManager.default.createFile(atPath: path, contents: Data(bytes)) }
        writer.start()
        #expect(waitUntil(timeout: 10) { daemon.log.contains("failpoint commit-copying reached") }, "\(daemon.log)")
        let waited = try runTool("famfs-policy", ["commit", path])
        #expect(waited.status == 0 && waited.output.contains("committed \(path)"), "\(waited.output)")
        #expect(xattr(path, "user.famfs.mode") == "dax")
        let again = try runTool("famfs-policy", ["commit", path])
        #expect(again.status == 0 && again.output.contains("already DAX: \(path)"), "\(again.output)")
        #expect(try readFile(path) == bytes)

        let outside = "\(daemon.directory)/plain.txt"
        _ = FileManager.default.createFile(atPath: outside, contents: Data("x".utf8))
        let refused = try runTool("famfs-policy", ["commit", outside])
        #expect(refused.status == 1 && refused.output.contains("not a file in a famfs-policyd mount"), "\(refused.output)")
        #expect(xattr(outside, "user.famfs.commit") == nil, "nothing is set on a file outside a mount")
        let unending = try runTool("famfs-policy", ["commit", "--max-wait", "inf", path])
        #expect(unending.status != 0 && unending.output.contains("--max-wait: inf is not a number of seconds"), "\(unending.output)")
        let missing = try runTool("famfs-policy", ["commit", "\(daemon.mountpoint)/nope.bin"])
        #expect(missing.status == 1 && missing.output.contains("nope.bin: No such file or directory"), "\(missing.output)")
    }

    @Test("a daemon killed inside a log append keeps the entry only once the header counts it, and appends on cleanly",
          arguments: [("log-entry-written", false), ("log-header-written", true)], ["mkdir", "truncate"])
    func crashInsideLogAppend(step: (failpoint: String, entryKept: Bool), operation: String) throws {
        let (failpoint, entryKept) = step
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let policy = "\(repositoryRoot)/policies/stripe.lua"
        try daemon.start(policy: policy, environment: ["FAMFS_POLICYD_FAILPOINT": failpoint])
        func append(_ name: String) throws -> Process {
            let path = "\(daemon.mountpoint)/\(name)"
            let arguments = operation == "mkdir" ? [path] : ["-s", "8M", path]
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/\(operation)")
            process.arguments = arguments
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }
        func isThere(_ name: String) -> Bool {
            let path = "\(daemon.mountpoint)/\(name)"
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return false }
            return operation == "mkdir" ? attributes[.type] as? FileAttributeType == .typeDirectory
                : (attributes[.size] as? NSNumber)?.intValue == 8 << 20
        }
        let unanswered = try append("torn")
        #expect(waitUntil(timeout: 10) { daemon.log.contains("failpoint \(failpoint) reached") }, "\(daemon.log)")
        daemon.crash()
        unanswered.waitUntilExit()
        #expect(try runTool("famfs-policy", ["check"] + daemon.devices).status == 0)

        try daemon.start(policy: policy)
        #expect(isThere("torn") == entryKept, "\(daemon.log)")
        let next = try append("next")
        next.waitUntilExit()
        #expect(next.terminationStatus == 0, "\(daemon.log)")
        daemon.send(SIGTERM)
        #expect(daemon.waitForExit() == 0)
        let check = try runTool("famfs-policy", ["check"] + daemon.devices)
        #expect(check.status == 0, "\(check.output)")

        try daemon.start(policy: policy)
        #expect(isThere("next"), "the append after the crash is durable: \(daemon.log)")
        #expect(isThere("torn") == entryKept)
    }
}

/// Regular files below a staging directory, relative to it.
func stagedFiles(in directory: String) throws -> [String] {
    try FileManager.default.subpathsOfDirectory(atPath: directory).filter { path in
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: "\(directory)/\(path)", isDirectory: &isDirectory) && !isDirectory.boolValue
    }
}
