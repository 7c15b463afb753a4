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
///
/// Given only the primary device, it checks the log alone: extents on the other devices are
/// bounded by the sizes the log records for them, and their superblocks are not read.
public enum FileSystemCheck {
    public static func run(devices paths: [FilePath]) -> CheckReport {
        var report = CheckReport()
        let findings: [ReplayFinding]
        do {
            if paths.count == 1 {
                let replay = try FamfsImage.replayPrimary(paths[0])
                (report.deviceCount, report.entryCount, findings) = (replay.devices.count, replay.entries.count, replay.findings)
                if replay.devices.count > 1 {
                    report.notes.append("only the primary device was given: the extents on devices 1-\(replay.devices.count - 1) "
                        + "were checked against the sizes the log records; give every device to check their superblocks too")
                }
            } else {
                let image = try FamfsImage.open(devices: paths, access: .readOnly)
                (report.deviceCount, report.entryCount, findings) = (image.devices.count, image.entries.count, image.findings)
            }
        } catch {
            report.faults.append(error.description)
            return report
        }
        for finding in findings {
            if finding.isFault { report.faults.append(finding.description) } else { report.notes.append(finding.description) }
        }
        return report
    }
}
