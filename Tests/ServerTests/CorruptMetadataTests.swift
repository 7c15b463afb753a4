import Foundation
import Metadata
import SystemPackage
import Testing

/// Flips every bit of the byte at `offset` of the file at `path`.
func flipByte(_ path: String, at offset: UInt64) throws {
    let file = try FileDescriptor.open(FilePath(path), .readWrite)
    defer { try? file.close() }
    var byte: [UInt8] = [0]
    _ = try byte.withUnsafeMutableBytes { try file.read(fromAbsoluteOffset: Int64(offset), into: $0) }
    _ = try file.writeAll(toAbsoluteOffset: Int64(offset), [~byte[0]])
}

/// The daemon refuses to start, exiting 1 (not a crash) with a message containing every fragment.
func expectRefusal(_ daemon: DaemonProcess, devices: [String]? = nil, naming fragments: [String],
                   sourceLocation: SourceLocation = #_sourceLocation) {
    let policy = "\(repositoryRoot)/policies/stripe.lua"
    do {
        try daemon.start(policy: policy, devices: devices)
        Issue.record("the daemon mounted; expected a refusal naming \(fragments)", sourceLocation: sourceLocation)
        daemon.send(SIGTERM)
        _ = daemon.waitForExit()
    } catch let failure as DaemonProcess.StartFailure {
        #expect(!failure.crashed && failure.status == 1, "\(failure)", sourceLocation: sourceLocation)
        let message = failure.log.split(separator: "\n").last { $0.contains("critical") }.map(String.init) ?? ""
        for fragment in fragments {
            #expect(message.contains(fragment), "expected \(fragment) in: \(failure.log)", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("\(error)", sourceLocation: sourceLocation)
    }
    // The next attempt's log starts empty.
    try? "".write(toFile: daemon.logPath, atomically: false, encoding: .utf8)
}

@Suite("Corrupt metadata and wrong devices at mount", .serialized)
struct CorruptMetadataTests {
    /// A daemon on three devices holding one file, stopped.
    func populated() throws -> (DaemonProcess, [UInt8]) {
        let daemon = try DaemonProcess(deviceCount: 3)
        try daemon.start(policy: "\(repositoryRoot)/policies/stripe.lua")
        let bytes = randomBytes(6 << 20 + 5)
        try writeFile("\(daemon.mountpoint)/data.bin", size: bytes.count, data: bytes)
        try FileManager.default.createDirectory(atPath: "\(daemon.mountpoint)/dir", withIntermediateDirectories: false)
        try writeFile("\(daemon.mountpoint)/dir/second.bin", size: 2 << 20, data: [7])
        daemon.send(SIGTERM)
        #expect(daemon.waitForExit() == 0)
        return (daemon, bytes)
    }

    @Test("a flipped byte in a superblock is refused naming the device; restoring it mounts the same files")
    func flippedSuperblockByte() throws {
        let (daemon, bytes) = try populated()
        defer { daemon.stop() }
        for (device, offset) in [(0, UInt64(40)), (0, UInt64(Superblock.crcOffset + 3)), (2, UInt64(60))] {
            try flipByte(daemon.devices[device], at: offset)
            expectRefusal(daemon, naming: [daemon.devices[device], "superblock"])
            let check = try runTool("famfs-policy", ["check"] + daemon.devices)
            #expect(check.status == 1 && check.output.contains(daemon.devices[device]), "\(check.output)")
            try flipByte(daemon.devices[device], at: offset)
        }
        try daemon.start(policy: "\(repositoryRoot)/policies/stripe.lua")
        #expect(try readFile("\(daemon.mountpoint)/data.bin") == bytes)
    }

    @Test("a flipped byte in a log entry before the last is reported; the daemon serves the rest and refuses appends (EROFS)")
    func flippedLogEntryByte() throws {
        let (daemon, _) = try populated()
        defer { daemon.stop() }
        let image = try FamfsImage.open(devices: daemon.devices.map { FilePath($0) }, access: .readOnly)
        let damaged = try #require(image.entries.first { if case .file = $0.entry { true } else { false } })
        try flipByte(daemon.devices[0], at: image.superblock.logOffset + LogHeader.offset(ofSlot: damaged.index) + 30)
        let check = try runTool("famfs-policy", ["check"] + daemon.devices)
        #expect(check.status == 1 && check.output.contains("\(damaged.index)"), "\(check.output)")

        try daemon.start(policy: "\(repositoryRoot)/policies/stripe.lua")
        #expect(daemon.log.contains("replay:") && daemon.log.contains("crc"), "\(daemon.log)")
        #expect(try readFile("\(daemon.mountpoint)/dir/second.bin").first == 7, "entries after the damage are served")
        #expect(!FileManager.default.fileExists(atPath: "\(daemon.mountpoint)/data.bin"), "the damaged entry is not served")
        let file = try FileDescriptor.open(FilePath("\(daemon.mountpoint)/new.bin"), .readWrite, options: .create, permissions: .ownerReadWrite)
        defer { try? file.close() }
        #expect(throws: Errno.readOnlyFileSystem) { try file.resize(to: 2 << 20) }
        #expect(mkdir("\(daemon.mountpoint)/d2", 0o755) == -1 && errno == EROFS)
        #expect(daemon.log.contains("log entry"), "the refusal names the damage: \(daemon.log)")
    }

    @Test("a truncated device is refused naming it and both sizes")
    func truncatedDevice() throws {
        let (daemon, _) = try populated()
        defer { daemon.stop() }
        #expect(truncate(daemon.devices[1], 128 << 20) == 0)
        expectRefusal(daemon, naming: [daemon.devices[1], "134217728", "268435456"])
        #expect(truncate(daemon.devices[0], 128 << 20) == 0)
        expectRefusal(daemon, naming: [daemon.devices[0]])
    }

    @Test("a missing, swapped, extra or foreign device is refused with a message naming it")
    func wrongDevices() throws {
        let (daemon, bytes) = try populated()
        defer { daemon.stop() }
        let d = daemon.devices
        expectRefusal(daemon, devices: [d[0], d[1]], naming: ["device 2", "was not given"])
        expectRefusal(daemon, devices: [d[0], d[2], d[1]], naming: [d[2], "device 1", "order"])
        expectRefusal(daemon, devices: [d[1], d[0], d[2]], naming: [d[1], "secondary"])
        let other = try DaemonProcess(deviceCount: 2)
        defer { other.stop() }
        expectRefusal(daemon, devices: [d[0], d[1], other.devices[1]], naming: [other.devices[1], "belongs to file system"])
        expectRefusal(daemon, devices: d + [other.devices[1]], naming: [other.devices[1], "one device too many"])
        try daemon.start(policy: "\(repositoryRoot)/policies/stripe.lua")
        #expect(try readFile("\(daemon.mountpoint)/data.bin") == bytes, "the right devices still mount")
    }
}
