import Foundation

/// Running in the background without fork (unsafe in a threaded process): the command starts
/// itself again with `-f` in a new session and waits until that child has mounted — or failed,
/// in which case its exit status is ours and its error is already on standard error.
enum Detach {
    static let environmentKey = "FAMFS_POLICYD_DETACHED"

    static var isDetachedChild: Bool { ProcessInfo.processInfo.environment[environmentKey] == "1" }

    /// Starts the detached child and returns the exit status to leave with.
    static func runInBackground() throws -> Int32 {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        child.arguments = ["-f"] + CommandLine.arguments.dropFirst()
        var environment = ProcessInfo.processInfo.environment
        environment[environmentKey] = "1"
        child.environment = environment
        let readiness = Pipe()
        child.standardOutput = readiness
        child.standardInput = FileHandle.nullDevice
        try child.run()
        let said = readiness.fileHandleForReading.readDataToEndOfFile()
        if String(decoding: said, as: UTF8.self).hasPrefix("ready") { return 0 }
        child.waitUntilExit()
        return child.terminationStatus == 0 ? 1 : child.terminationStatus
    }

    /// In the detached child: tell the parent the mount is up and let go of the terminal.
    static func reportReady() {
        guard isDetachedChild else { return }
        setsid()
        FileHandle.standardOutput.write(Data("ready\n".utf8))
        let null = open("/dev/null", O_WRONLY)
        dup2(null, STDOUT_FILENO)
        close(null)
    }
}
