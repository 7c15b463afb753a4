import ArgumentParser
import Metadata
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
            """)

    @Flag(help: "Overwrite devices that already hold a famfs file system.")
    var force = false

    @Option(name: .customLong("log-length"),
            help: "Log size, a power of two of at least 8M (suffixes K, M, G).")
    var logLength: ByteSize = ByteSize(bytes: FamfsMedia.defaultLogLength)

    @Argument(help: "Devices: the primary first, then any others.")
    var devices: [String]

    func validate() throws {
        guard !devices.isEmpty else { throw ValidationError("Name at least one device, e.g. famfs-policy mkfs /dev/dax0.0") }
    }

    func run() throws {
        let host: MediaUUID
        do { host = try SystemUUID.current() } catch {
            throw ValidationError("Cannot determine this host's system uuid (\(error)); create /etc/machine-id with systemd-machine-id-setup.")
        }
        let options = Mkfs.Options(logLength: logLength.bytes, force: force, systemUUID: host)
        do {
            let result = try Mkfs.format(devices: devices.map { FilePath($0) }, options: options)
            print("famfs file system \(result.fileSystemUUID): \(devices.count) device(s), \(result.logSlots) log entries")
            for (index, uuid) in result.deviceUUIDs.enumerated() {
                print("  device \(index): \(devices[index]) uuid \(uuid)")
            }
        } catch {
            throw CommandFailure(message: "mkfs: \(error)")
        }
    }
}

/// A byte count given with an optional K, M or G suffix (powers of 1024).
struct ByteSize: ExpressibleByArgument, Sendable {
    var bytes: UInt64

    init(bytes: UInt64) { self.bytes = bytes }

    init?(argument: String) {
        let shifts: [Character: UInt64] = ["K": 10, "M": 20, "G": 30]
        var digits = Substring(argument)
        var shift: UInt64 = 0
        if let last = digits.last?.uppercased().first, let suffix = shifts[last] {
            shift = suffix
            digits = digits.dropLast()
        }
        guard let value = UInt64(digits), value <= UInt64.max >> shift else { return nil }
        bytes = value << shift
    }

    var defaultValueDescription: String { "\(bytes >> 20)M" }
}

/// A command's failure: the message goes to standard error, the exit status is 1.
private struct CommandFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
