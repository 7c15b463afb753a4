import ArgumentParser
import Metadata
import SystemPackage

/// `famfs-policy check`: verifies a file system without changing it.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Verify the superblock, the log's checksums and seqnums, and that no allocations overlap.",
        discussion: """
            Reads the devices and changes nothing; run it on an unmounted file system for a \
            stable answer. Exits 0 when the file system is clean, 1 naming the \
            first fault otherwise.

            Given only the primary device, it checks the log alone: extents on the other \
            devices are checked against the sizes the log records for them.

            Examples:
              famfs-policy check /dev/dax0.0 /dev/dax1.0
              famfs-policy check /dev/dax0.0
            """)

    @Argument(help: "Devices in the order mkfs was given them: the primary first (alone, it checks the log).")
    var devices: [String]

    func validate() throws {
        guard !devices.isEmpty else { throw ValidationError("Name the primary device, e.g. famfs-policy check /dev/dax0.0") }
    }

    func run() throws {
        let report = FileSystemCheck.run(devices: devices.map { FilePath($0) })
        print(report)
        if !report.isClean { throw ExitCode(1) }
    }
}
