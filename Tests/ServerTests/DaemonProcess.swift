import Foundation
import SystemPackage

/// Where the package's executables were built: beside the test binary.
let executablesDirectory: String = {
    URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path
}()

/// Runs one of the package's executables to completion; returns its status and output.
@discardableResult
func runTool(_ name: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    try runProgram("\(executablesDirectory)/\(name)", arguments)
}

/// Runs the program at `path` to its end; its exit status, and its stdout and stderr together.
func runProgram(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// A `famfs-policyd -f` process on file-backed devices in a unique /dev/shm directory; its
/// log goes to a file the test can read. `stop()` always leaves nothing mounted.
final class DaemonProcess {
    let directory: String
    let devices: [String]
    let mountpoint: String
    let staging: String
    let logPath: String
    private var process: Process?

    /// Makes and formats `deviceCount` devices of `deviceSize` bytes (256 MiB unless told).
    init(deviceCount: Int = 2, deviceSize: Int = 256 << 20) throws {
        let directory = "/dev/shm/famfs-daemon-\(UUID().uuidString.prefix(8))"
        self.directory = directory
        devices = (0..<deviceCount).map { "\(directory)/dev\($0)" }
        mountpoint = "\(directory)/mnt"
        staging = "\(directory)/staging"
        logPath = "\(directory)/daemon.log"
        for path in [mountpoint, staging] {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        for device in devices {
            _ = FileManager.default.createFile(atPath: device, contents: nil)
            guard truncate(device, off_t(deviceSize)) == 0 else { throw Errno(rawValue: errno) }
        }
        let mkfs = try runTool("famfs-policy", ["mkfs"] + devices)
        guard mkfs.status == 0 else { throw Errno.ioError }
    }

    /// Starts the daemon with `policy` and waits until the mount is up. `options` go before
    /// the devices (e.g. `["-o", "allow_other"]`); `devices` replaces the formatted ones.
    func start(policy: String, staging useStaging: Bool = false, environment: [String: String] = [:],
               options: [String] = [], devices: [String]? = nil) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(executablesDirectory)/famfs-policyd")
        process.arguments = ["-f", "--policy", policy] + (useStaging ? ["--staging", staging] : []) + options
            + (devices ?? self.devices) + [mountpoint]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardError = log
        process.standardOutput = log
        try process.run()
        self.process = process
        guard waitUntil(timeout: 10, { self.isMounted || !process.isRunning }) else { throw Errno.timedOut }
        guard isMounted else {
            throw StartFailure(status: process.terminationStatus, crashed: process.terminationReason == .uncaughtSignal, log: self.log)
        }
    }

    /// Writes `stagingPolicy` into a folder beside the devices; returns the policy's path.
    func writeStagingPolicy() throws -> String {
        let folder = "\(directory)/policy"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try stagingPolicy.write(toFile: "\(folder)/staging.lua", atomically: true, encoding: .utf8)
        return "\(folder)/staging.lua"
    }

    /// Starts the daemon with `stagingPolicy` and the staging directory.
    func startStaging(environment: [String: String] = [:], options: [String] = []) throws {
        try start(policy: try writeStagingPolicy(), staging: true, environment: environment, options: options)
    }

    /// The daemon exited instead of mounting; `log` holds what it said.
    struct StartFailure: Error, CustomStringConvertible {
        var status: Int32
        /// Killed by a signal (a trap, an abort) rather than exiting.
        var crashed: Bool
        var log: String
        var description: String { "famfs-policyd \(crashed ? "died of signal" : "exited with status") \(status): \(log)" }
    }

    var isMounted: Bool {
        (try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8))?.contains(" \(mountpoint) ") ?? false
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    var pid: Int32 { process?.processIdentifier ?? 0 }

    /// Sends `signal` to the daemon.
    func send(_ signal: Int32) { if let process { kill(process.processIdentifier, signal) } }

    /// Waits for the daemon to exit; its status, or nil if it is still running.
    func waitForExit(timeout: Double = 10) -> Int32? {
        guard let process, waitUntil(timeout: timeout, { !process.isRunning }) else { return nil }
        return process.terminationStatus
    }

    /// SIGKILLs the daemon (a crash) and detaches its dead mount.
    func crash() {
        send(SIGKILL)
        _ = waitForExit()
        detachMount()
    }

    func detachMount() {
        guard isMounted else { return }
        let umount = try? Process.run(URL(fileURLWithPath: "/bin/umount"), arguments: ["-l", mountpoint])
        umount?.waitUntilExit()
    }

    /// Stops the daemon however it is, unmounts, and removes the directory.
    func stop() {
        if let process, process.isRunning {
            send(SIGTERM)
            if waitForExit(timeout: 5) == nil { crash() }
        }
        detachMount()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Polls `condition` every 20 ms for up to `timeout` seconds.
func waitUntil(timeout: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}
