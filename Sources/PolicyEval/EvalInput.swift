import Fmap
import Foundation
import Metadata
import Policy
import Yams

/// What `famfs-policy eval` runs a policy over: devices, files, and the policy's config.
public struct EvalInput: Sendable, Equatable {
    public struct Device: Sendable, Equatable {
        public var path: String
        public var size: UInt64
        /// The NUMA node holding the device's memory, as libdaxctl would report it; nil when unknown.
        public var numaNode: Int?
        public init(path: String, size: UInt64, numaNode: Int? = nil) {
            self.path = path
            self.size = size
            self.numaNode = numaNode
        }
    }

    public struct File: Sendable, Equatable {
        public var path: String
        public var size: UInt64
        public var uid: UInt32
        public var gid: UInt32
        /// `st_mode` with type bits (a bare permission like 0644 gets the regular-file bits).
        public var mode: UInt32
        public init(path: String, size: UInt64, uid: UInt32 = 0, gid: UInt32 = 0, mode: UInt32 = 0o100644) {
            self.path = path
            self.size = size
            self.uid = uid
            self.gid = gid
            self.mode = mode < 0o10000 ? mode | 0o100000 : mode
        }
    }

    /// The policy named by an input file (resolved against that file's folder), if any.
    public var policyPath: String?
    public var devices: [Device]
    public var files: [File]
    public var config: [String: String]
    /// Bytes at the start of every device the allocator never hands out; nil for what the
    /// daemon keeps on devices `famfs-policy mkfs` formatted (`reservedBytes(onDevice:)`).
    public var reservedBytes: UInt64?

    public init(policyPath: String? = nil, devices: [Device] = [], files: [File] = [],
                config: [String: String] = [:], reservedBytes: UInt64? = nil) {
        self.policyPath = policyPath
        self.devices = devices
        self.files = files
        self.config = config
        self.reservedBytes = reservedBytes
    }

    /// Parses a `PATH=SIZE` argument (split at the last `=`).
    public static func assignment(_ text: String) throws(EvalInputError) -> (path: String, size: UInt64) {
        guard let equals = text.lastIndex(of: "="), equals != text.startIndex else {
            throw EvalInputError("'\(text)' is not PATH=SIZE, e.g. /dev/dax0.0=64G")
        }
        let sizeText = String(text[text.index(after: equals)...])
        guard let size = SizeText.parse(sizeText) else {
            throw EvalInputError("'\(sizeText)' in '\(text)' is not a size; use bytes or a K, M, G or T suffix")
        }
        return (String(text[..<equals]), size)
    }

    /// Parses a `--device` argument: `PATH=SIZE`, or `PATH=SIZE@NODE` for a device whose
    /// memory is on NUMA node `NODE`.
    public static func device(_ text: String) throws(EvalInputError) -> Device {
        guard let at = text.lastIndex(of: "@"), let equals = text.lastIndex(of: "="), at > equals else {
            let (path, size) = try assignment(text)
            return Device(path: path, size: size)
        }
        let nodeText = String(text[text.index(after: at)...])
        guard let node = Int(nodeText), node >= 0 else {
            throw EvalInputError("'\(nodeText)' in '\(text)' is not a NUMA node; write PATH=SIZE@NODE, e.g. /dev/dax0.0=64G@1")
        }
        let (path, size) = try assignment(String(text[..<at]))
        return Device(path: path, size: size, numaNode: node)
    }

    /// Parses the YAML (or JSON) form; see docs/policy-api.md. `folder` resolves a relative
    /// `policy`; `source` names the input in errors (`examples/x.yaml: devices[2]: missing 'size'`).
    public static func parse(yaml text: String, folder: String, source: String = "the eval input") throws(EvalInputError) -> EvalInput {
        let document = try EvalDocument.decode(text, source: source)
        var input = EvalInput(config: document.config ?? [:], reservedBytes: document.reserve?.bytes)
        if let policy = document.policy {
            input.policyPath = policy.hasPrefix("/") ? policy : folder + "/" + policy
        }
        for entry in document.devices ?? [] {
            for n in 0..<Int(entry.count ?? 1) {
                input.devices.append(Device(path: expand(entry.path, n), size: entry.size.bytes,
                                            numaNode: entry.numaNode.map(Int.init)))
            }
        }
        for entry in document.files ?? [] {
            for n in 0..<Int(entry.count ?? 1) {
                input.files.append(File(path: expand(entry.path, n), size: entry.size.bytes, uid: entry.uid ?? 0,
                                        gid: entry.gid ?? 0, mode: entry.mode?.value ?? 0o100644))
            }
        }
        return input
    }

    /// Replaces `{n}` with the repetition number, so one entry with `count` describes many.
    private static func expand(_ path: String, _ n: Int) -> String {
        path.replacingOccurrences(of: "{n}", with: String(n))
    }
}

extension EvalInput {
    /// Bytes never handed out at the start of device `index`: `reservedBytes` when given;
    /// otherwise what the daemon keeps, the superblock and the default-length log on the
    /// primary device and a superblock on each other one.
    public func reservedBytes(onDevice index: Int) -> UInt64 {
        reservedBytes ?? FamfsMedia.reservedBytes(primary: index == 0)
    }

    /// The described devices as a policy sees them, in index order, allocating in 2 MiB units.
    public var deviceFacts: [DeviceFacts] {
        devices.enumerated().map { index, device in
            DeviceFacts(index: UInt32(index), path: device.path, size: device.size, alignment: FmapLimits.mib2,
                        numaNode: device.numaNode)
        }
    }
}

/// A malformed eval input, in words the user can act on.
public struct EvalInputError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
