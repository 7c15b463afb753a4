import Foundation
import SystemPackage
import Testing

/// Anonymous memory of process `pid` in bytes (RssAnon: the daemon's own heap, not the
/// device pages it maps).
func anonymousMemory(of pid: Int32) -> Int {
    let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("RssAnon:") } ?? ""
    return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
}

/// One thread's share of the load: it owns `path` and keeps a shadow copy of its bytes, or
/// (`writes == false`) only reads a file nobody writes and compares it with `shadow`.
final class LoadWorker: @unchecked Sendable {
    let path: String
    let writes: Bool
    var shadow: [UInt8]
    var operations = 0
    var failures: [String] = []
    private var random: SplitMix

    init(path: String, content: [UInt8], writes: Bool, seed: UInt64) {
        self.path = path
        self.writes = writes
        shadow = content
        random = SplitMix(seed: seed)
    }

    /// Reads and writes until `deadline` has passed and at least `minimum` operations are done
    /// (a slow machine runs longer rather than checking less), or until five failures.
    func run(until deadline: Date, minimum: Int) {
        let file: FileDescriptor
        do { file = try FileDescriptor.open(FilePath(path), writes ? .readWrite : .readOnly) } catch {
            failures.append("\(path): cannot open: \(error)")
            return
        }
        defer { try? file.close() }
        while (Date() < deadline || operations < minimum) && failures.count < 5 {
            let length = Int(random.next() % (256 << 10)) + 1
            let offset = Int(random.next() % UInt64(shadow.count - length))
            do {
                if writes && random.next() % 2 == 0 {
                    let bytes = randomBytes(length, seed: random.next())
                    guard try file.writeAll(toAbsoluteOffset: Int64(offset), bytes) == length else { throw Errno.ioError }
                    shadow.replaceSubrange(offset..<(offset + length), with: bytes)
                } else {
                    var buffer = [UInt8](repeating: 0, count: length)
                    let read = try buffer.withUnsafeMutableBytes { try file.read(fromAbsoluteOffset: Int64(offset), into: $0) }
                    if read != length || buffer[...] != shadow[offset..<(offset + length)] {
                        failures.append("\(path): \(read) bytes at \(offset) differ from what was written")
                    }
                }
                operations += 1
            } catch {
                failures.append("\(path): \(error)")
            }
        }
    }
}

@Suite("Load", .serialized)
struct LoadTests {
    /// Seconds of load; `FAMFS_LOAD_SECONDS` lengthens it (scripts/load-test runs 60).
    static let seconds = Double(ProcessInfo.processInfo.environment["FAMFS_LOAD_SECONDS"] ?? "") ?? 5
    /// Reads and writes each thread does at least, however long they take.
    static let minimumOperations = 50

    @Test("10 threads (6 writing, 4 only reading shared files) on DAX and passthrough files: no error, no corruption, stable memory")
    func concurrentReadersAndWriters() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        try daemon.startStaging()
        let mount = daemon.mountpoint

        var workers: [LoadWorker] = []
        for (index, (name, size, writes)) in [("w0.dax", 16 << 20, true), ("w1.dax", 16 << 20, true), ("w2.dax", 24 << 20, true),
                                             ("w3.bin", 8 << 20, true), ("w4.bin", 8 << 20, true), ("w5.bin", 12 << 20, true),
                                             ("shared.dax", 16 << 20, false), ("shared.bin", 8 << 20, false)].enumerated() {
            let content = randomBytes(size, seed: UInt64(index))
            if name.hasSuffix(".dax") {
                try writeFile("\(mount)/\(name)", size: size, data: content)
            } else {
                _ = FileManager.default.createFile(atPath: "\(mount)/\(name)", contents: Data(content))
            }
            workers.append(LoadWorker(path: "\(mount)/\(name)", content: content, writes: writes, seed: .random(in: 0...UInt64.max)))
        }
        // Two more readers, so two threads read each shared file at once.
        workers.append(LoadWorker(path: "\(mount)/shared.dax", content: workers[6].shadow, writes: false, seed: 99))
        workers.append(LoadWorker(path: "\(mount)/shared.bin", content: workers[7].shadow, writes: false, seed: 98))
        #expect(workers.count == 10)

        let warmup = Date().addingTimeInterval(min(1, Self.seconds / 5))
        let deadline = Date().addingTimeInterval(Self.seconds)
        let group = DispatchGroup()
        for worker in workers {
            group.enter()
            Thread.detachNewThread {
                worker.run(until: deadline, minimum: Self.minimumOperations)
                group.leave()
            }
        }
        Thread.sleep(until: warmup)
        let memoryAfterWarmup = anonymousMemory(of: daemon.pid)
        #expect(group.wait(timeout: .now() + Self.seconds + 120) == .success, "a worker hangs")
        let memoryAtEnd = anonymousMemory(of: daemon.pid)

        for worker in workers {
            #expect(worker.failures.isEmpty, "\(worker.failures); the daemon said: \(daemon.log.split(separator: "\n").filter { !$0.contains(" info ") })")
            #expect(try readFile(worker.path) == worker.shadow, "\(worker.path) at the end")
        }
        #expect(xattr("\(mount)/w0.dax", "user.famfs.mode") == "dax")
        #expect(xattr("\(mount)/w3.bin", "user.famfs.mode") == "passthrough")
        let operations = workers.map(\.operations).reduce(0, +)
        let growth = memoryAtEnd - memoryAfterWarmup
        print("load test: \(workers.count) threads, \(Self.seconds) s, \(operations) reads and writes; daemon RssAnon \(memoryAfterWarmup >> 10) KiB after warm-up, \(memoryAtEnd >> 10) KiB at the end")
        #expect(workers.allSatisfy { $0.operations >= Self.minimumOperations }, "\(workers.map(\.operations))")
        #expect(memoryAfterWarmup > 0 && growth < 32 << 20, "the daemon's heap grew by \(growth >> 10) KiB")
        daemon.send(SIGTERM)
        #expect(daemon.waitForExit() == 0)
        #expect(try runTool("famfs-policy", ["check"] + daemon.devices).status == 0)
    }

    @Test("a passthrough file open twice at once, read-only first, serves both handles through the kernel")
    func secondPassthroughOpen() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        try daemon.startStaging()
        let path = "\(daemon.mountpoint)/twice.bin"
        _ = FileManager.default.createFile(atPath: path, contents: Data([1, 2, 3]))
        // The kernel binds an inode to one backing file while it is open: a second open must
        // name the same one, and it must be writable though the first handle was not.
        let reader = try FileDescriptor.open(FilePath(path), .readOnly)
        defer { try? reader.close() }
        let writer = try FileDescriptor.open(FilePath(path), .readWrite)
        #expect(try writer.writeAll(toAbsoluteOffset: 1, [7, 8, 9]) == 3)
        var buffer = [UInt8](repeating: 0, count: 8)
        let count = try buffer.withUnsafeMutableBytes { try reader.read(fromAbsoluteOffset: 0, into: $0) }
        #expect(Array(buffer.prefix(count)) == [1, 7, 8, 9])
        try writer.close()
        let appender = try FileDescriptor.open(FilePath(path), .writeOnly, options: .append)
        #expect(try appender.writeAll([4]) == 1)
        try appender.close()
        #expect(try readFile(path) == [1, 7, 8, 9, 4])
        let counters = try JSONDecoder().decode([String: UInt64].self, from: Data((xattr(daemon.mountpoint, "user.famfs.stats") ?? "").utf8))
        #expect(counters["passthrough_reads_forwarded", default: 0] == 0 && counters["passthrough_writes_forwarded", default: 0] == 0, "\(counters)")
    }
}
