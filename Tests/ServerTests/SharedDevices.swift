import CSystemExtras
import Foundation
import SystemPackage

/// Devices in a unique /dev/shm directory shared by several daemon processes, each with its
/// own mount point: on one machine, what several hosts seeing the same CXL memory look like.
/// `remove()` stops every daemon, unmounts and deletes the directory.
final class SharedDevices {
    let directory: String
    let devices: [String]
    private var daemons: [SharedDeviceDaemon] = []

    /// Makes `count` sparse device files of `size` bytes (memory is used only where written)
    /// and formats them.
    init(count: Int = 2, size: UInt64 = 256 << 20) throws {
        let directory = "/dev/shm/famfs-shared-\(UUID().uuidString.prefix(8))"
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        devices = (0..<count).map { "\(directory)/dev\($0)" }
        for device in devices {
            _ = FileManager.default.createFile(atPath: device, contents: nil)
            guard truncate(device, off_t(size)) == 0 else { throw Errno(rawValue: errno) }
        }
        let mkfs = try runTool("famfs-policy", ["mkfs"] + devices)
        guard mkfs.status == 0 else { throw DaemonFailure(description: "mkfs failed: \(mkfs.output)") }
    }

    /// A daemon (not yet started) whose mount point and log are named `name`.
    func daemon(_ name: String) throws -> SharedDeviceDaemon {
        let daemon = try SharedDeviceDaemon(devices: devices, mountpoint: "\(directory)/\(name)", logPath: "\(directory)/\(name).log")
        daemons.append(daemon)
        return daemon
    }

    func remove() {
        daemons.forEach { $0.stop() }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

struct DaemonFailure: Error, CustomStringConvertible {
    var description: String
}

/// One `famfs-policyd -f` process on shared devices. Its output goes to `logPath`.
final class SharedDeviceDaemon {
    let devices: [String]
    let mountpoint: String
    let logPath: String
    private(set) var process: Process?

    init(devices: [String], mountpoint: String, logPath: String) throws {
        self.devices = devices
        self.mountpoint = mountpoint
        self.logPath = logPath
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
    }

    /// Starts a leader with `policy`.
    func startLeader(policy: String) throws {
        try start(["--policy", policy])
    }

    /// Starts a follower.
    func startFollower(pollInterval: Double? = nil) throws {
        try start(["--follower"] + (pollInterval.map { ["--poll-interval", "\($0)"] } ?? []))
    }

    /// Starts the daemon with `options` and waits until it has mounted; throws with its log if
    /// it exits first.
    func start(_ options: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(executablesDirectory)/famfs-policyd")
        process.arguments = ["-f"] + options + devices + [mountpoint]
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardError = log
        process.standardOutput = log
        try process.run()
        self.process = process
        _ = waitUntil(timeout: 15) { self.isMounted || !process.isRunning }
        guard isMounted else {
            process.waitUntilExit()
            throw DaemonFailure(description: "famfs-policyd \(options) exited with \(process.terminationStatus): \(self.log)")
        }
    }

    var isMounted: Bool {
        (try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8))?.contains(" \(mountpoint) ") ?? false
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    var pid: Int32 { process?.processIdentifier ?? 0 }

    func path(_ relative: String) -> String { "\(mountpoint)/\(relative)" }

    /// SIGKILLs the daemon, as a crash would, and detaches its dead mount.
    func crash() {
        guard let process else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        detachMount()
    }

    /// SIGTERM (SIGKILL if that does not end it), then makes sure nothing stays mounted.
    func stop() {
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            if !waitUntil(timeout: 5, { !process.isRunning }) { crash() }
        }
        detachMount()
    }

    private func detachMount() {
        guard isMounted else { return }
        let umount = try? Process.run(URL(fileURLWithPath: "/bin/umount"), arguments: ["-l", mountpoint])
        umount?.waitUntilExit()
    }
}

/// An extended attribute read with getxattr(2) (no process per call, for many files); nil if absent.
func extendedAttribute(_ path: String, _ name: String) -> String? {
    var buffer = [UInt8](repeating: 0, count: 64 << 10)
    let count = getxattr(path, name, &buffer, buffer.count)
    guard count >= 0 else { return nil }
    return String(decoding: buffer.prefix(count), as: UTF8.self)
}
