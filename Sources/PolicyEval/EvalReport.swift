import Fmap
import Foundation

/// What eval found: each file's decision and fmap, the validation result, device usage.
///
/// `--json` prints `json()`: `{"valid", "devices": [{"index","path","size","used","kernel_path","error"}],
/// "files": [{"path","size","mode","placement","fmap","error"}]}` with the fmap in its
/// shared JSON shape (`Fmap+Codable`) or null.
public struct EvalReport: Sendable, Encodable {
    public struct DeviceUsage: Sendable, Encodable, Equatable {
        public var index: UInt32
        public var path: String
        public var size: UInt64
        /// Bytes the files' fmaps claim on this device.
        public var used: UInt64
        /// The path `resolve_device` names to the kernel; nil when it failed or the policy did not load.
        public var kernelPath: String?
        /// Why `resolve_device` failed for this device, nil when it did not.
        public var error: String?

        enum CodingKeys: String, CodingKey {
            case index, path, size, used, error
            case kernelPath = "kernel_path"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(index, forKey: .index)
            try container.encode(path, forKey: .path)
            try container.encode(size, forKey: .size)
            try container.encode(used, forKey: .used)
            try container.encode(kernelPath, forKey: .kernelPath)
            try container.encode(error, forKey: .error)
        }
    }

    public enum Decision: String, Sendable, Encodable {
        /// Laid out on DAX at creation.
        case dax
        /// Left in a passthrough backing file (on_release did not commit it).
        case passthrough
        /// Created as passthrough, committed to DAX by on_release.
        case committed
    }

    public struct FileResult: Sendable, Encodable {
        public var path: String
        public var size: UInt64
        public var mode: UInt32
        /// Nil when the policy failed before deciding.
        public var placement: Decision?
        public var backingPath: String?
        public var fmap: Fmap?
        /// The policy error or overlap found for this file, nil when it is fine.
        public var error: String?

        enum CodingKeys: String, CodingKey {
            case path, size, mode, placement, fmap, error
            case backingPath = "backing_path"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(path, forKey: .path)
            try container.encode(size, forKey: .size)
            try container.encode(mode, forKey: .mode)
            try container.encode(placement, forKey: .placement)
            try container.encodeIfPresent(backingPath, forKey: .backingPath)
            try container.encode(fmap, forKey: .fmap)
            try container.encode(error, forKey: .error)
        }
    }

    /// True when every file got what its placement needs (a valid fmap, or a passthrough
    /// decision) and `resolve_device` named every device.
    public var valid: Bool
    public var devices: [DeviceUsage]
    public var files: [FileResult]
    /// Why the policy did not load, if it did not (every file then carries the same error).
    public var loadError: String?
    /// Bytes at the start of each device that were never allocated (superblock and log, or eval's reserve).
    public var reservedBytes: [UInt64] = []

    enum CodingKeys: String, CodingKey { case valid, devices, files }

    /// The largest minus the smallest device usage, in bytes.
    public var usageSpread: UInt64 {
        let used = devices.map(\.used)
        return (used.max() ?? 0) - (used.min() ?? 0)
    }

    /// The report as one JSON object (keys sorted, so output is stable).
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(self)) ?? Data("{\"valid\":false}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// The report for people: one line per file, then device usage and balance.
    public func text(policy: String) -> String {
        var lines: [String] = []
        if let loadError { lines.append("policy \(policy) did not load: \(loadError)") }
        for file in files {
            let head = "\(file.path) \(SizeText.format(file.size))"
            if let error = file.error {
                lines.append("\(head): ERROR \(error)")
            } else if let fmap = file.fmap {
                lines.append("\(head): \(file.placement?.rawValue ?? "dax") \(Self.describe(fmap))")
            } else if file.placement == .dax {
                lines.append("\(head): dax, empty: no memory until its first size")
            } else {
                lines.append("\(head): passthrough \(file.backingPath ?? "")")
            }
        }
        lines.append("")
        lines.append("device usage:")
        for device in devices {
            let percent = device.size == 0 ? 0 : Double(device.used) * 100 / Double(device.size)
            var line = "  \(device.index) \(device.path): \(SizeText.format(device.used)) of \(SizeText.format(device.size)) used (\(String(format: "%.1f", percent))%)"
            if let error = device.error {
                line += ", ERROR \(error)"
            } else if let kernelPath = device.kernelPath {
                line += ", kernel path \(kernelPath)"
            }
            lines.append(line)
        }
        let chunks = Double(usageSpread) / Double(FmapLimits.mib2)
        lines.append("balance: most and least used devices differ by \(SizeText.format(usageSpread)) (\(String(format: "%g", chunks)) 2M chunks)")
        let failed = files.filter { $0.error != nil }.count
        let unnamed = devices.filter { $0.error != nil }.count
        var problems = failed > 0 || unnamed == 0 ? ["\(failed) of \(CountText.format(files.count, "file")) failed"] : []
        if unnamed > 0 { problems.append("resolve_device failed for \(unnamed) of \(CountText.format(devices.count, "device"))") }
        lines.append(valid ? "valid: every file got a valid placement (\(CountText.format(files.count, "file")))"
                           : "invalid: " + problems.joined(separator: "; "))
        return lines.joined(separator: "\n")
    }

    private static func describe(_ fmap: Fmap) -> String {
        func range(_ extent: SimpleExtent) -> String {
            "\(extent.device):0x\(String(extent.offset, radix: 16))+\(SizeText.format(extent.length))"
        }
        switch fmap.extents {
        case .simple(let extents):
            return "simple [" + extents.map(range).joined(separator: " ") + "]"
        case .interleaved(let extents):
            return "interleaved " + extents.map { extent in
                "\(extent.strips.count)x\(SizeText.format(extent.chunkSize)) [" + extent.strips.map(range).joined(separator: " ") + "]"
            }.joined(separator: " ")
        }
    }
}
