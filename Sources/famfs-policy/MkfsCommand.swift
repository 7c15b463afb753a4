import ArgumentParser
import Metadata
import PolicyEval
import SystemPackage

/// `famfs-policy mkfs`: writes famfs's superblock and an empty log.
struct MkfsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mkfs",
        abstract: "Format devices with famfs's on-media format.",
        discussion: """
            The first device is the primary: it holds the superblock and the log. Every other \
            device is recorded in the log by uuid and must be given in the same order when the \
            file system is opened. Devices are devdax character devices or regular files \
            (the file's size is the device's capacity).

            Examples:
              famfs-policy mkfs /dev/dax0.0 /dev/dax1.0
              truncate -s 256M /dev/shm/dev0 /dev/shm/dev1 && famfs-policy mkfs /dev/shm/dev0 /dev/shm/dev1
              famfs-policy mkfs --force --log-length 64M /dev/dax0.0
            """)

    @Flag(help: "Overwrite devices that already hold a famfs file system.")
    var force = false

    @Option(name: .customLong("log-length"),
            help: ArgumentHelp("Log size, a power of two of at least 8M (suffixes K, M, G, T).", valueName: "size"))
    var logLength = SizeText.format(FamfsMedia.defaultLogLength)

    @Argument(help: "Devices: the primary first, then any others.")
    var devices: [String]

    func validate() throws {
        guard !devices.isEmpty else { throw ValidationError("Name at least one device, e.g. famfs-policy mkfs /dev/dax0.0") }
        guard SizeText.parse(logLength) != nil else { throw ValidationError("--log-length takes a size such as 8M or 64M, not '\(logLength)'") }
    }

    func run() throws {
        let host: MediaUUID
        do { host = try SystemUUID.current() } catch {
            throw ValidationError("Cannot determine this host's system uuid (\(error)); create /etc/machine-id with systemd-machine-id-setup.")
        }
        let options = Mkfs.Options(logLength: SizeText.parse(logLength) ?? 0, force: force, systemUUID: host)
        do {
            let result = try Mkfs.format(devices: devices.map { FilePath($0) }, options: options)
            print("famfs file system \(result.fileSystemUUID): \(devices.count) device(s), room for \(result.logSlots) log entries")
            for (index, uuid) in result.deviceUUIDs.enumerated() {
                print("  device \(index): \(devices[index]) uuid \(uuid)")
            }
        } catch {
            throw CommandFailure(message: "mkfs: \(error)")
        }
    }
}

/// A command's failure: the message goes to standard error, the exit status is 1.
private struct CommandFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
