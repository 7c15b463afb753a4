internal import CDaxctl
import SystemPackage

/// A devdax character device found by libdaxctl.
public struct DaxDeviceInfo: Hashable, Sendable, CustomStringConvertible {
    /// The character device, e.g. `/dev/dax0.0`.
    public var path: FilePath
    /// Usable bytes.
    public var size: UInt64
    /// NUMA node holding the memory, nil when the kernel does not say.
    public var numaNode: Int?
    /// Alignment a mapping of the device must respect.
    public var alignment: UInt64

    public init(path: FilePath, size: UInt64, numaNode: Int?, alignment: UInt64) {
        self.path = path
        self.size = size
        self.numaNode = numaNode
        self.alignment = alignment
    }

    public var description: String {
        "\(path) size \(size) align \(alignment) node \(numaNode.map(String.init) ?? "?")"
    }
}

/// Lists the devdax devices of this machine through libdaxctl.
public enum DaxDiscovery {
    /// Every enabled devdax device; empty on a machine without CXL or persistent memory.
    public static func devices() throws(Errno) -> [DaxDeviceInfo] {
        var capacity = 16
        while true {
            var buffer = [cdaxctl_device](repeating: cdaxctl_device(), count: capacity)
            let found = Int(cdaxctl_list_devices(&buffer, Int32(capacity)))
            guard found >= 0 else { throw Errno(rawValue: Int32(-found)) }
            guard found > capacity else { return buffer.prefix(found).map(DaxDeviceInfo.init) }
            capacity = found
        }
    }
}

extension DaxDeviceInfo {
    init(_ raw: cdaxctl_device) {
        var raw = raw
        let path = withUnsafeBytes(of: &raw.path) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
        self.init(path: FilePath(path), size: UInt64(raw.size),
                  numaNode: raw.numa_node >= 0 ? Int(raw.numa_node) : nil,
                  alignment: UInt64(raw.alignment))
    }
}
