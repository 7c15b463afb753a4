import Devices
import SystemPackage

/// Why a leader could not take, keep or give up the lease on the log. Each case names the
/// holder involved and says what to do.
public enum LeaseError: Error, Equatable, Sendable, CustomStringConvertible {
    case device(DeviceError)
    /// The device is not a famfs primary device.
    indirect case notFamfs(ImageError)
    /// The lease record is there but fails its checks (damaged, or torn by a concurrent write).
    case damagedRecord(FilePath, MediaFormatError)
    /// This host's identity is unknown.
    case noHostIdentity(Errno)
    /// A live leader holds the lease: its heartbeat moved while we watched.
    case held(LeaseRecord, primary: FilePath)
    /// Another contender claimed the lease at the same time, and its claim stands.
    case lostRace(LeaseRecord?, primary: FilePath)
    /// The lease no longer names this leader: it was taken over.
    case lost(LeaseRecord?, primary: FilePath)

    public var description: String {
        switch self {
        case .device(let error):
            return "\(error)"
        case .notFamfs(let error):
            return "\(error)"
        case let .damagedRecord(primary, error):
            return "\(primary): the lease record at offset \(LeaseRecord.offset) is damaged: \(error)"
        case .noHostIdentity(let errno):
            return "cannot determine this host's system uuid (\(errno)); create /etc/machine-id with systemd-machine-id-setup"
        case let .held(record, primary):
            return "another leader is appending to the log on \(primary): the lease is \(record), and its heartbeat is moving. "
                + "Run followers with --follower; if that leader is dead on a host you cannot reach, run famfs-policy takeover \(primary)"
        case let .lostRace(record, primary):
            return "another leader claimed the lease on \(primary) at the same moment and won (\(record.map(\.description) ?? "the record is unreadable")); start this one as a follower"
        case let .lost(record, primary):
            return "the lease on \(primary) no longer names this daemon (now \(record.map(\.description) ?? "unreadable")): it was taken over, so this daemon no longer appends"
        }
    }
}
