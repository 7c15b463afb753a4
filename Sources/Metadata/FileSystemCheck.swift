import SystemPackage

/// The result of checking a file system: faults make it unusable for appends, notes are
/// damage the format expects and replay recovers (a torn last entry).
public struct CheckReport: Sendable, CustomStringConvertible {
    public var faults: [String] = []
    public var notes: [String] = []
    public var entryCount = 0
    public var deviceCount = 0

    public var isClean: Bool { faults.isEmpty }
    public var firstFault: String? { faults.first }

    public var description: String {
        var lines = notes.map { "note: \($0)" } + faults.map { "fault: \($0)" }
        lines.append(isClean ? "clean: \(deviceCount) device(s), \(entryCount) log entries"
                             : "\(faults.count) fault(s); first: \(faults[0])")
        return lines.joined(separator: "\n")
    }
}

/// `famfs-policy check`: superblock and log checksums, seqnums, device identities, and that no
/// two allocations overlap or leave their device. Opens read-only; changes nothing.
public enum FileSystemCheck {
    public static func run(devices paths: [FilePath]) -> CheckReport {
        var report = CheckReport()
        let image: FamfsImage
        do {
            image = try FamfsImage.open(devices: paths, access: .readOnly)
        } catch {
            report.faults.append(error.description)
            return report
        }
        report.deviceCount = image.devices.count
        report.entryCount = image.entries.count
        for finding in image.findings {
            if finding.isFault { report.faults.append(finding.description) } else { report.notes.append(finding.description) }
        }
        return report
    }
}
