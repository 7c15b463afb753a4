import Allocation
import Fmap
import Foundation
import LogCapture
import Metadata
import Server
import SystemPackage
import Testing

/// One leader and followers on the same devices, each daemon with its own mount point, as
/// hosts sharing CXL memory would be.
@Suite("Leader and followers on shared devices", .serialized)
struct FollowerTests {
    static let policy = "\(repositoryRoot)/policies/stripe.lua"

    /// Writes `count` files of varied small sizes under `directory` on the leader's mount;
    /// returns their paths (relative to the mount) and bytes.
    func writeFiles(_ count: Int, under directory: String, on leader: SharedDeviceDaemon,
                    seed: UInt64 = 0) throws -> [String: [UInt8]] {
        _ = mkdir(leader.path(directory), 0o755)
        var written: [String: [UInt8]] = [:]
        for index in 0..<count {
            let name = "\(directory)/f\(index).bin"
            let bytes = randomBytes(1 + (index * 7919) % (64 << 10), seed: seed &+ UInt64(index))
            try writeFile(leader.path(name), size: bytes.count, data: bytes)
            written[name] = bytes
        }
        return written
    }

    /// Every file reads back the same on `follower`, and shows the fmap the leader logged.
    func expectSameFiles(_ contents: [String: [UInt8]], on follower: SharedDeviceDaemon, as leader: SharedDeviceDaemon?,
                         fmaps: [String: String]) throws {
        var mismatches: [String] = []
        for (name, bytes) in contents.sorted(by: { $0.key < $1.key }) {
            if try readFile(follower.path(name)) != bytes { mismatches.append("\(name): bytes") }
            let fmap = extendedAttribute(follower.path(name), "user.famfs.fmap")
            if fmap == nil || fmap != fmaps[name] { mismatches.append("\(name): fmap \(fmap ?? "none") vs \(fmaps[name] ?? "none")") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) differences, first: \(mismatches.prefix(3))")
    }

    @Test("1,000 files created, sized and written on the leader appear on a follower within 2 s with identical bytes and fmaps; a late follower replays them all")
    func thousandFilesReachTheFollowers() throws {
        // 1,000 files take 2 MiB of device memory each; the sparse devices use only what is written.
        let shared = try SharedDevices(count: 2, size: 2 << 30)
        defer { shared.remove() }
        let leader = try shared.daemon("leader")
        try leader.startLeader(policy: Self.policy)
        let follower = try shared.daemon("follower")
        try follower.startFollower()

        var contents: [String: [UInt8]] = [:]
        var slowest = 0.0
        for batch in 0..<10 {
            let files = try writeFiles(100, under: "d\(batch)", on: leader, seed: UInt64(batch) << 32)
            contents.merge(files) { $1 }
            // The last file of each batch is timed from the moment the leader finished writing it.
            let written = Date()
            let last = "d\(batch)/f99.bin"
            #expect(waitUntil(timeout: 2) { FileManager.default.fileExists(atPath: follower.path(last)) }, "\(last) took over 2 s")
            slowest = max(slowest, Date().timeIntervalSince(written))
        }
        let big = randomBytes(70 << 20, seed: 70)
        try writeFile(leader.path("big.bin"), size: big.count, data: big)
        contents["big.bin"] = big
        #expect(contents.count == 1_001)
        #expect(waitUntil(timeout: 2) { contents.keys.allSatisfy { FileManager.default.fileExists(atPath: follower.path($0)) } },
                "every file is on the follower within 2 s of the last write")
        #expect(slowest < 2)

        let fmaps = contents.keys.reduce(into: [String: String]()) { $0[$1] = extendedAttribute(leader.path($1), "user.famfs.fmap") }
        #expect(fmaps["big.bin"]?.contains("interleaved") == true || fmaps["big.bin"]?.contains("strips") == true,
                "the large file is striped: \(fmaps["big.bin"] ?? "no fmap")")
        try expectSameFiles(contents, on: follower, as: leader, fmaps: fmaps)
        #expect(try FileManager.default.contentsOfDirectory(atPath: follower.path("d3")).sorted()
                == FileManager.default.contentsOfDirectory(atPath: leader.path("d3")).sorted())

        let late = try shared.daemon("late")
        try late.startFollower()
        try expectSameFiles(contents, on: late, as: leader, fmaps: fmaps)
        #expect(!follower.log.contains("follow: log entry"), "the follower found nothing wrong: \(follower.log)")
    }

    @Test("the follower survives the leader being SIGKILLed and restarted, takes in the new leader's files, and a third host joining late replays the whole log")
    func followerOutlivesALeaderCrash() throws {
        let shared = try SharedDevices()
        defer { shared.remove() }
        let leader = try shared.daemon("leader")
        try leader.startLeader(policy: Self.policy)
        let follower = try shared.daemon("follower")
        try follower.startFollower(pollInterval: 0.2)

        var contents = try writeFiles(20, under: "before", on: leader)
        #expect(waitUntil(timeout: 2) { FileManager.default.fileExists(atPath: follower.path("before/f19.bin")) })
        var fmaps = contents.keys.reduce(into: [String: String]()) { $0[$1] = extendedAttribute(leader.path($1), "user.famfs.fmap") }

        leader.crash()
        #expect(follower.process?.isRunning == true && follower.isMounted)
        try expectSameFiles(contents, on: follower, as: nil, fmaps: fmaps)

        try leader.startLeader(policy: Self.policy)
        #expect(leader.log.contains("no longer runs"), "the restarted leader took the lease of its dead predecessor")
        let after = try writeFiles(20, under: "after", on: leader, seed: 1_000)
        #expect(waitUntil(timeout: 2) { after.keys.allSatisfy { FileManager.default.fileExists(atPath: follower.path($0)) } })
        contents.merge(after) { $1 }
        for name in after.keys { fmaps[name] = extendedAttribute(leader.path(name), "user.famfs.fmap") }
        try expectSameFiles(contents, on: follower, as: leader, fmaps: fmaps)

        let third = try shared.daemon("third")
        try third.startFollower()
        try expectSameFiles(contents, on: third, as: leader, fmaps: fmaps)
        #expect(try FileManager.default.contentsOfDirectory(atPath: third.mountpoint).sorted() == [".meta", "after", "before"])
    }

    @Test("a second leader on the same devices is refused naming the holder; after famfs-policy takeover a new leader starts and the old one refuses changes")
    func secondLeaderIsRefusedUntilTakeover() throws {
        let shared = try SharedDevices()
        defer { shared.remove() }
        let leader = try shared.daemon("leader")
        try leader.startLeader(policy: Self.policy)
        try writeFile(leader.path("first.bin"), size: 2 << 20, data: [1])

        let second = try shared.daemon("second")
        #expect {
            try second.startLeader(policy: Self.policy)
        } throws: { error in
            "\(error)".contains("another leader") && "\(error)".contains("pid \(leader.pid)")
        }
        #expect(!second.isMounted)

        let takeover = try runTool("famfs-policy", ["takeover", shared.devices[0]])
        #expect(takeover.status == 0, "\(takeover.output)")
        #expect(takeover.output.contains("pid \(leader.pid)"))
        #expect(throws: Errno.readOnlyFileSystem) { try writeFile(leader.path("refused.bin"), size: 2 << 20, data: [2]) }
        #expect(waitUntil(timeout: 10) { leader.log.contains("no longer names this daemon") })

        try second.startLeader(policy: Self.policy)
        try writeFile(second.path("second.bin"), size: 2 << 20, data: [3])
        let follower = try shared.daemon("follower")
        try follower.startFollower()
        #expect(try readFile(follower.path("first.bin")).first == 1)
        #expect(try readFile(follower.path("second.bin")).first == 3)
        #expect(!FileManager.default.fileExists(atPath: follower.path("refused.bin")))
    }

    @Test("a leader stopped cleanly releases the lease, and the next leader takes it at once")
    func cleanStopReleasesTheLease() throws {
        let shared = try SharedDevices()
        defer { shared.remove() }
        let first = try shared.daemon("first")
        try first.startLeader(policy: Self.policy)
        first.stop()
        let next = try shared.daemon("next")
        try next.startLeader(policy: Self.policy)
        #expect(next.log.contains("it was released by host"), "\(next.log)")
    }

    @Test("a follower mount refuses every change with EROFS")
    func followerMountIsReadOnly() throws {
        let shared = try SharedDevices()
        defer { shared.remove() }
        let leader = try shared.daemon("leader")
        try leader.startLeader(policy: Self.policy)
        try writeFile(leader.path("f.bin"), size: 2 << 20, data: [9])
        let follower = try shared.daemon("follower")
        try follower.startFollower()
        #expect(mkdir(follower.path("d"), 0o755) == -1 && errno == EROFS)
        #expect(throws: Errno.readOnlyFileSystem) {
            _ = try FileDescriptor.open(FilePath(follower.path("new.bin")), .writeOnly, options: .create, permissions: .ownerReadWrite)
        }
        #expect(throws: Errno.readOnlyFileSystem) { _ = try FileDescriptor.open(FilePath(follower.path("f.bin")), .readWrite) }
        #expect(truncate(follower.path("f.bin"), 0) == -1 && errno == EROFS)
        #expect(unlink(follower.path("f.bin")) == -1 && errno == EROFS)
        #expect(try readFile(follower.path("f.bin")).first == 9)
    }

    @Test("in-process: a follower's file system answers changes with EROFS itself and takes in new entries when it polls")
    func followerFileSystemRefusesAndFollows() throws {
        let shared = try SharedDevices(count: 1)
        defer { shared.remove() }
        let paths = shared.devices.map { FilePath($0) }
        let writer = try FamfsImage.open(devices: paths, access: .readWrite, host: try SystemUUID.current())
        let log = CapturedLog()
        let fileSystem = FileSystem(image: try FamfsImage.open(devices: paths, access: .readOnly), logger: log.logger)
        #expect(fileSystem.isFollower)
        let server = FuseServer(fileSystem: fileSystem, makePolicy: { ContiguousLayout() }, workerCount: 1, logger: log.logger)
        let following = LogFollowing(fileSystem: fileSystem, interval: 0.1)
        let kernel = try TestKernel(server: server)
        defer { kernel.close() }
        _ = try kernel.initialize(minor: 31, flags2: 0)
        #expect(try kernel.lookup("d") == nil)

        try writer.appendMkdir(DirectoryEntry(path: try RelativePath("d"), uid: 0, gid: 0, mode: 0o755))
        try writer.appendFile(path: try RelativePath("d/a"), uid: 0, gid: 0, mode: 0o644) { state throws(AllocationError) in
            Fmap(fileSize: 3 << 20, extents: .simple([try state.allocate(device: 0, bytes: 4 << 20, alignment: 2 << 20)]))
        }
        #expect(try following.pollOnce().entries.count == 2)
        let directory = try #require(try kernel.lookup("d"))
        let file = try #require(try kernel.lookup("a", in: directory))
        #expect(try kernel.size(of: file) == 3 << 20)

        let erofs: Int32 = -30
        #expect(try kernel.call(9, node: 1, TestKernel.words([0o755, 0]) + Array("x".utf8) + [0]).error == erofs, "MKDIR")
        #expect(try kernel.call(35, node: directory, TestKernel.words([UInt32(O_CREAT | O_WRONLY), 0o644, 0, 0]) + Array("y".utf8) + [0]).error == erofs, "CREATE")
        #expect(try kernel.call(14, node: file, TestKernel.words([UInt32(O_WRONLY), 0])).error == erofs, "OPEN for writing")
        #expect(try kernel.call(10, node: directory, Array("a".utf8) + [0]).error == erofs, "UNLINK")
        let renameArguments = TestKernel.words([UInt32(directory & 0xFFFF_FFFF), UInt32(directory >> 32)]) + Array("a\0b\0".utf8)
        #expect(try kernel.call(12, node: directory, renameArguments).error == erofs, "RENAME")
        #expect(try kernel.call(21, node: file, TestKernel.words([1, 0]) + Array("user.x\0".utf8) + [7]).error == erofs, "SETXATTR")
        #expect(try kernel.call(43, node: file, TestKernel.words([0, 0, 0, 0, 4 << 20, 0, 0, 0])).error == erofs, "FALLOCATE")
        let setSize = TestKernel.words([1 << 3, 0, 0, 0, 8 << 20, 0] + Array(repeating: 0, count: 16))
        #expect(try kernel.call(4, node: file, setSize).error == erofs, "SETATTR size")
        #expect(try kernel.open(file).error == 0, "OPEN for reading")
    }
}
