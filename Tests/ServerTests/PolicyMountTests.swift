import Fmap
import Foundation
import LogCapture
import Policy
import Server
import Synchronization
import SystemPackage
import Testing

/// The repository's root, found from this file's path.
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// A worker-policy factory running `path` (a bundled policy or a test's own file) on `devices`.
func policyFactory(_ path: String, devices: [String], config: [String: String] = [:],
                   log: CapturedLog = CapturedLog()) throws -> WorkerPolicyFactory {
    let facts = devices.enumerated().map { index, device in
        DeviceFacts(index: UInt32(index), path: device, size: MountedFileSystem.deviceSize, alignment: FmapLimits.mib2)
    }
    let source = try PolicySource(path: path, devices: facts, config: config, logger: log.logger)
    return { try source.makeWorker() }
}

@Suite("Mounts laid out by real policies", .serialized)
struct PolicyMountTests {
    @Test("stripe.lua over two devices: a tree of striped files that survives a remount")
    func stripedTreeSurvivesRemount() throws {
        var tree: [String: [UInt8]] = [:]
        let first = try MountedFileSystem(deviceCount: 2, layoutFor: { paths in
            try policyFactory("\(repositoryRoot)/policies/stripe.lua", devices: paths)
        })
        defer { first.close() }
        for directory in ["models", "models/llama", "datasets/shards"] {
            try FileManager.default.createDirectory(atPath: first.path(directory), withIntermediateDirectories: true)
        }
        for (index, name) in ["models/llama/weights.bin", "datasets/shards/0001", "datasets/shards/0002", "top.bin"].enumerated() {
            let bytes = randomBytes((index + 1) * (3 << 20) + index * 4099)
            try writeFile(first.path(name), size: bytes.count, data: bytes)
            tree[name] = bytes
        }
        var fmaps: [String: String] = [:]
        for (name, bytes) in tree {
            #expect(try readFile(first.path(name)) == bytes, "\(name)")
            let json = try #require(xattr(first.path(name), "user.famfs.fmap"))
            fmaps[name] = json
            let fmap = try JSONDecoder().decode(Fmap.self, from: Data(json.utf8))
            guard case .interleaved(let extents) = fmap.extents else {
                Issue.record("\(name) is not striped: \(json)")
                continue
            }
            #expect(Set(extents[0].strips.map(\.device)) == [0, 1], "\(name) strips on both devices")
            #expect(extents[0].chunkSize == FmapLimits.mib2)
        }
        first.unmount()

        let second = try MountedFileSystem(reusing: first, layoutFor: { paths in
            try policyFactory("\(repositoryRoot)/policies/stripe.lua", devices: paths)
        })
        defer { second.unmount() }
        for (name, bytes) in tree {
            #expect(try readFile(second.path(name)) == bytes, "\(name) after remount")
            #expect(xattr(second.path(name), "user.famfs.fmap") == fmaps[name], "\(name) fmap after remount")
        }
    }

    @Test("contiguous.lua: one simple extent per file")
    func contiguousGivesOneExtent() throws {
        let fs = try MountedFileSystem(deviceCount: 1, layoutFor: { paths in
            try policyFactory("\(repositoryRoot)/policies/contiguous.lua", devices: paths)
        })
        defer { fs.close() }
        try writeFile(fs.path("one.bin"), size: 7 << 20, data: randomBytes(1000))
        let fmap = try JSONDecoder().decode(Fmap.self, from: Data(try #require(xattr(fs.path("one.bin"), "user.famfs.fmap")).utf8))
        guard case .simple(let extents) = fmap.extents else { throw KernelFmap.Rejected(description: "not simple") }
        #expect(extents.count == 1 && extents[0].length == 8 << 20)
    }

    @Test("a failing or lying policy fails that truncate with an errno and a policy:line log line; the mount keeps serving")
    func brokenPolicyFailsOneOperation() throws {
        let folder = "/dev/shm/famfs-policy-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let policy = """
            function layout(file, devices)
              if file.path:find("broken") then
                error("no layout for " .. file.path)
              end
              if file.path:find("misaligned") then
                return { ext_type = "simple", extents = { { dev = 0, offset = 4096, length = 2097152 } } }
              end
              return { ext_type = "simple", extents = { alloc(0, file.size, 2097152) } }
            end
            """
        try policy.write(toFile: "\(folder)/picky.lua", atomically: true, encoding: .utf8)
        let log = CapturedLog()
        let fs = try MountedFileSystem(deviceCount: 1, logger: log.logger, layoutFor: { paths in
            try policyFactory("\(folder)/picky.lua", devices: paths, log: log)
        })
        defer { fs.close() }
        let freeBefore = try freeBytes(fs.mountpoint)
        for name in ["broken.bin", "misaligned.bin"] {
            let file = try FileDescriptor.open(FilePath(fs.path(name)), .readWrite, options: .create, permissions: .ownerReadWrite)
            defer { try? file.close() }
            #expect(throws: Errno.ioError, "\(name)") { try file.resize(to: 4 << 20) }
        }
        #expect(log.messages.contains { $0.contains("picky.lua:3: layout: ") && $0.contains("no layout for /broken.bin") })
        #expect(log.messages.contains { $0.contains("picky.lua") && $0.contains("extents[0].offset") })
        #expect(try freeBytes(fs.mountpoint) == freeBefore, "nothing stays allocated after a refused layout")
        // Other files still get memory, and the refused ones can try again.
        try writeFile(fs.path("fine.bin"), size: 2 << 20, data: [42])
        #expect(try readFile(fs.path("fine.bin")).first == 42)
        #expect(try FileManager.default.attributesOfItem(atPath: fs.path("broken.bin"))[.size] as? Int == 0)
    }

    @Test("while a slow layout runs, the mount serves other files; two files sized at once get separate memory")
    func slowLayoutDoesNotStallTheMount() throws {
        let fs = try MountedFileSystem(deviceCount: 1, layoutFor: { paths in
            let folder = (paths[0] as NSString).deletingLastPathComponent + "/policy"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try """
                function layout(file, devices)
                  if file.path:find("slow") then
                    local start = os.clock()
                    while os.clock() - start < 0.8 do end
                  end
                  return { ext_type = "simple", extents = { alloc(0, file.size, 2097152) } }
                end
                """.write(toFile: "\(folder)/slow.lua", atomically: true, encoding: .utf8)
            return try policyFactory("\(folder)/slow.lua", devices: paths)
        })
        defer { fs.close() }
        let ready = randomBytes(3 << 20)
        try writeFile(fs.path("ready.bin"), size: ready.count, data: ready)
        _ = FileManager.default.createFile(atPath: fs.path("slow.bin"), contents: nil)
        let slowDone = Mutex<Date?>(nil)
        let sized = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let result = truncate(fs.path("slow.bin"), 4 << 20)
            slowDone.withLock { $0 = result == 0 ? Date() : nil }
            sized.signal()
        }
        Thread.sleep(forTimeInterval: 0.2)
        // Reads, a directory and another file's memory, all while the slow layout runs.
        #expect(try readFile(fs.path("ready.bin")) == ready)
        try FileManager.default.createDirectory(atPath: fs.path("made-meanwhile"), withIntermediateDirectories: false)
        try writeFile(fs.path("quick.bin"), size: 2 << 20, data: [9])
        let othersDone = Date()
        #expect(sized.wait(timeout: .now() + 30) == .success)
        let slowEnd = try #require(slowDone.withLock { $0 }, "the slow truncate succeeds")
        #expect(othersDone < slowEnd, "the other operations waited for the slow layout")
        let fmaps = try ["slow.bin", "quick.bin", "ready.bin"].map { name in
            try JSONDecoder().decode(Fmap.self, from: Data(try #require(xattr(fs.path(name), "user.famfs.fmap")).utf8))
        }
        let ranges = fmaps.flatMap(\.claimedRanges).sorted { $0.offset < $1.offset }
        #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.end <= $1.offset }, "\(ranges)")
    }
}

/// Free bytes `statvfs` reports for the file system at `path`.
func freeBytes(_ path: String) throws -> UInt64 {
    var info = statvfs()
    guard statvfs(path, &info) == 0 else { throw Errno(rawValue: errno) }
    return UInt64(info.f_bfree) * UInt64(info.f_frsize)
}
