import Fmap
import Foundation
import Metadata
import SystemPackage
import Testing

/// What the workload knows about one path: only operations the mount answered with success
/// count; an operation that failed (the daemon died under it) leaves what it touched unknown.
struct ExpectedPath {
    enum Kind { case directory, daxFile, stagedFile }
    var kind: Kind
    /// The bytes the file must hold, or nil when an interrupted write left them unknown.
    var content: [UInt8]?
    /// "dax" once a commit or a size was answered; nil when a commit was interrupted.
    var mode: String?
}

/// Creates, sizes, writes, mkdirs and commits on a mount until told to stop or an operation
/// fails; records what each successful operation promised.
final class CrashWorkload: @unchecked Sendable {
    private let lock = NSLock()
    private var stopRequested = false
    private(set) var expected: [String: ExpectedPath] = [:]
    private(set) var operations = 0
    private var generator: SplitMix
    private let mountpoint: String
    private var serial = 0
    private let cycle: Int

    init(mountpoint: String, expected: [String: ExpectedPath], cycle: Int, seed: UInt64) {
        self.mountpoint = mountpoint
        self.expected = expected
        self.cycle = cycle
        generator = SplitMix(seed: seed)
    }

    func stop() { lock.withLock { stopRequested = true } }
    private var stopped: Bool { lock.withLock { stopRequested } }

    /// Runs operations until one fails or `stop()`; returns on the first failure.
    func run() {
        while !stopped {
            if !step() { return }
            operations += 1
        }
    }

    private func nextName(_ suffix: String) -> String {
        serial += 1
        let directories = expected.filter { $0.value.kind == .directory }.keys.sorted()
        let parent = directories.isEmpty || generator.next() % 2 == 0 ? "" : directories[Int(generator.next() % UInt64(directories.count))] + "/"
        return "\(parent)c\(cycle)-\(serial)\(suffix)"
    }

    /// One operation; false when it failed.
    private func step() -> Bool {
        switch generator.next() % 8 {
        case 0:
            let name = nextName("")
            guard mkdir("\(mountpoint)/\(name)", 0o755) == 0 else { return false }
            expected[name] = ExpectedPath(kind: .directory)
        case 1, 2, 3:
            // A DAX file: created (not durable until sized), sized (logged), written.
            let name = nextName(".dax")
            let size = Int(generator.next() % (5 << 20)) + 1
            let bytes = randomBytes(size, seed: generator.next())
            guard let file = try? FileDescriptor.open(FilePath("\(mountpoint)/\(name)"), .readWrite,
                                                      options: [.create, .exclusiveCreate], permissions: .ownerReadWrite) else { return false }
            defer { try? file.close() }
            guard (try? file.resize(to: Int64(size))) != nil else { return false }
            expected[name] = ExpectedPath(kind: .daxFile, content: [UInt8](repeating: 0, count: size), mode: "dax")
            guard (try? file.writeAll(toAbsoluteOffset: 0, bytes)) != nil else {
                expected[name]?.content = nil
                return false
            }
            expected[name]?.content = bytes
        case 4, 5:
            // A staged (passthrough) file, written and closed.
            let name = nextName(".bin")
            let bytes = randomBytes(Int(generator.next() % (512 << 10)) + 1, seed: generator.next())
            guard let file = try? FileDescriptor.open(FilePath("\(mountpoint)/\(name)"), .readWrite,
                                                      options: [.create, .exclusiveCreate], permissions: .ownerReadWrite) else { return false }
            expected[name] = ExpectedPath(kind: .stagedFile, content: [], mode: "passthrough")
            let written = (try? file.writeAll(toAbsoluteOffset: 0, bytes)) != nil
            let closed = (try? file.close()) != nil
            guard written, closed else {
                expected[name]?.content = nil
                return false
            }
            expected[name]?.content = bytes
        default:
            // Commit a staged file to DAX.
            let candidates = expected.filter { $0.value.kind == .stagedFile && $0.value.mode == "passthrough" }.keys.sorted()
            guard !candidates.isEmpty else { return true }
            let name = candidates[Int(generator.next() % UInt64(candidates.count))]
            expected[name]?.mode = nil
            guard let setfattr = try? Process.run(URL(fileURLWithPath: "/usr/bin/setfattr"),
                                                  arguments: ["-n", "user.famfs.commit", "-v", "1", "\(mountpoint)/\(name)"]) else { return false }
            setfattr.waitUntilExit()
            guard setfattr.terminationStatus == 0 else { return false }
            expected[name]?.mode = "dax"
        }
        return true
    }
}

/// A seeded generator so a failing run can be repeated with the seed it prints.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Device ranges of every DAX file under `root` that overlap another file's.
func sharedDeviceMemory(under root: String) throws -> [String] {
    var owners: [(range: SimpleExtent, path: String)] = []
    var clashes: [String] = []
    let paths = try FileManager.default.subpathsOfDirectory(atPath: root).filter { !$0.hasPrefix(".meta") }
    for path in paths.sorted() {
        guard xattr("\(root)/\(path)", "user.famfs.mode") == "dax",
              let json = xattr("\(root)/\(path)", "user.famfs.fmap") else { continue }
        let fmap = try JSONDecoder().decode(Fmap.self, from: Data(json.utf8))
        for range in fmap.claimedRanges {
            for other in owners where other.range.device == range.device
                && other.range.offset < range.offset + range.length && range.offset < other.range.offset + other.range.length {
                clashes.append("\(path) \(range) overlaps \(other.path) \(other.range)")
            }
            owners.append((range, path))
        }
    }
    return clashes
}

@Suite("Crash consistency: SIGKILL at random points", .serialized)
struct CrashConsistencyTests {
    /// Kills survived by `killsAtRandomPoints`; `FAMFS_CRASH_KILLS` raises it for a long run
    /// (scripts/crash-test).
    static let kills = Int(ProcessInfo.processInfo.environment["FAMFS_CRASH_KILLS"] ?? "") ?? 20

    @Test("after each SIGKILL and restart: every answered operation is there, check passes, no memory is shared")
    func killsAtRandomPoints() throws {
        let seed = UInt64(ProcessInfo.processInfo.environment["FAMFS_CRASH_SEED"] ?? "") ?? .random(in: 0...UInt64.max)
        print("crash test: seed \(seed) (FAMFS_CRASH_SEED=\(seed) repeats it), \(Self.kills) kills")
        var random = SplitMix(seed: seed)
        let daemon = try DaemonProcess(deviceSize: 2 << 30)
        defer { daemon.stop() }
        let policy = try daemon.writeStagingPolicy()

        var expected: [String: ExpectedPath] = [:]
        var totalOperations = 0
        var verifiedContent = Set<String>()
        try daemon.start(policy: policy, staging: true)
        for cycle in 0..<Self.kills {
            let workload = CrashWorkload(mountpoint: daemon.mountpoint, expected: expected, cycle: cycle, seed: random.next())
            let finished = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                workload.run()
                finished.signal()
            }
            usleep(useconds_t(50_000 + random.next() % 400_000))
            daemon.send(SIGKILL)
            #expect(daemon.waitForExit() != nil)
            workload.stop()
            // The thread must be done before the dead mount is detached: afterwards its
            // operations would land in the bare mountpoint directory.
            #expect(finished.wait(timeout: .now() + 30) == .success, "cycle \(cycle): the workload hangs on a dead mount")
            daemon.detachMount()
            totalOperations += workload.operations
            expected = workload.expected

            let check = try runTool("famfs-policy", ["check"] + daemon.devices)
            #expect(check.status == 0, "cycle \(cycle), seed \(seed): \(check.output)")

            try daemon.start(policy: policy, staging: true)
            for (path, expectation) in expected.sorted(by: { $0.key < $1.key }) {
                let full = "\(daemon.mountpoint)/\(path)"
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory) else {
                    Issue.record("cycle \(cycle), seed \(seed): \(path) was answered success but is gone")
                    continue
                }
                #expect(isDirectory.boolValue == (expectation.kind == .directory), "\(path)")
                if let mode = expectation.mode {
                    #expect(xattr(full, "user.famfs.mode") == mode, "cycle \(cycle), seed \(seed): \(path)")
                }
                // Content: every file the first time it is seen after a crash, then a sample.
                if let content = expectation.content, !verifiedContent.contains(path) || random.next() % 8 == 0 {
                    #expect(try readFile(full) == content, "cycle \(cycle), seed \(seed): \(path) has other bytes")
                    verifiedContent.insert(path)
                }
            }
            #expect(try sharedDeviceMemory(under: daemon.mountpoint) == [], "cycle \(cycle), seed \(seed)")
            // The restarted daemon serves the next cycle's workload.
        }
        daemon.send(SIGTERM)
        #expect(daemon.waitForExit() == 0)
        let files = expected.values.filter { $0.kind != .directory }.count
        print("crash test: survived \(Self.kills) kills; \(totalOperations) operations answered success; \(files) files and \(expected.count - files) directories checked")
        #expect(totalOperations > Self.kills, "the kills must land in the middle of a workload")
    }

    @Test("a torn last log entry is detected by its checksum, ignored with a log line, and its slot reused")
    func tornLastEntryIsIgnored() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let policy = "\(repositoryRoot)/policies/stripe.lua"
        try daemon.start(policy: policy)
        let kept = randomBytes(3 << 20)
        try writeFile("\(daemon.mountpoint)/kept.bin", size: kept.count, data: kept)
        try writeFile("\(daemon.mountpoint)/torn.bin", size: 2 << 20, data: [1])
        daemon.send(SIGTERM)
        #expect(daemon.waitForExit() == 0)

        // Tear the last entry as a crash between writing its first and last cache line would.
        let image = try FamfsImage.open(devices: daemon.devices.map { FilePath($0) }, access: .readOnly)
        let last = try #require(image.entries.last)
        guard case .file(let file) = last.entry else { throw Errno.invalidArgument }
        #expect(file.path.string == "torn.bin")
        let slot = image.superblock.logOffset + LogHeader.offset(ofSlot: last.index)
        let device = try FileDescriptor.open(FilePath(daemon.devices[0]), .readWrite)
        _ = try device.writeAll(toAbsoluteOffset: Int64(slot + 300), randomBytes(200))
        try device.close()

        let check = try runTool("famfs-policy", ["check"] + daemon.devices)
        #expect(check.status == 0, "a torn last entry is the damage a crash leaves, not a fault: \(check.output)")
        #expect(check.output.contains("torn"), "\(check.output)")

        try daemon.start(policy: policy)
        #expect(daemon.log.contains("log entry \(last.index) is torn"), "\(daemon.log)")
        #expect(!FileManager.default.fileExists(atPath: "\(daemon.mountpoint)/torn.bin"))
        #expect(try readFile("\(daemon.mountpoint)/kept.bin") == kept)
        try writeFile("\(daemon.mountpoint)/after.bin", size: 2 << 20, data: [2])
        daemon.send(SIGTERM)
        #expect(daemon.waitForExit() == 0)
        let reopened = try FamfsImage.open(devices: daemon.devices.map { FilePath($0) }, access: .readOnly)
        #expect(reopened.findings.isEmpty, "the next append reused the torn slot: \(reopened.findings)")
        #expect(reopened.entries.last?.index == last.index)
    }
}
