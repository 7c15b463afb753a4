#if canImport(Glibc)
import Glibc
#endif
import Devices
import Synchronization
import SystemPackage

/// The one-leader rule for a file system shared by many hosts: a leader holds the lease
/// (`LeaseRecord`) in the primary device and beats its heartbeat; a second leader refuses to
/// start while the heartbeat moves. No coordination service is involved: the shared memory is
/// the coordination.
///
/// Acquiring: an unclaimed or released record is claimed at once; so is one held by a process
/// of this host that no longer runs (a leader that was killed and is restarted). Otherwise the
/// contender watches the heartbeat for `Timing.staleAfter`: if it moves, the lease is held and
/// the contender refuses, naming the holder; if it stays still, the holder is dead and the
/// lease is claimed. A claim is written, left to settle for one heartbeat interval, and read
/// back: of two contenders claiming at once, the one whose claim was overwritten refuses.
///
/// This guards against starting a second leader by mistake; it is not a consensus protocol.
/// Writes to shared memory are the only ordering, so a leader that stalls longer than
/// `staleAfter` may find its lease taken, and then stops appending (`verify` fails).
public final class LeaderLease: Sendable {
    /// Who holds the lease: a host and a process on it.
    public struct Holder: Hashable, Sendable {
        public var host: MediaUUID
        public var pid: Int32

        public init(host: MediaUUID, pid: Int32) {
            self.host = host
            self.pid = pid
        }

        /// This process on this host (`SystemUUID.current()`).
        public static func current() throws(LeaseError) -> Holder {
            do { return Holder(host: try SystemUUID.current(), pid: getpid()) } catch { throw .noHostIdentity(error) }
        }
    }

    /// How often a leader beats, and how long a silent heartbeat takes to count as dead.
    public struct Timing: Sendable {
        public var heartbeat: Double
        public var staleAfter: Double

        /// Beats every 0.5 s; dead after 2 s of silence.
        public static let standard = Timing(heartbeat: 0.5, staleAfter: 2)

        public init(heartbeat: Double, staleAfter: Double) {
            self.heartbeat = heartbeat
            self.staleAfter = staleAfter
        }
    }

    /// How a lease was acquired, for the daemon's log.
    public enum Acquisition: Equatable, Sendable, CustomStringConvertible {
        /// No leader had ever held it.
        case unclaimed
        /// The previous leader released it (a clean stop, or `famfs-policy takeover`).
        case released(LeaseRecord)
        /// The previous leader was a process of this host that no longer runs.
        case holderGone(LeaseRecord)
        /// The previous leader's heartbeat stood still for `staleAfter`.
        case stale(LeaseRecord)

        public var description: String {
            switch self {
            case .unclaimed: return "no leader had held it"
            case .released(let record): return "it was \(record)"
            case .holderGone(let record): return "its holder, pid \(record.pid) of this host, no longer runs"
            case .stale(let record): return "its heartbeat stood still: \(record)"
            }
        }
    }

    /// What `takeover` found and changed.
    public struct Takeover: Sendable {
        /// The record before the takeover, if there was one.
        public var previous: LeaseRecord?
        /// The superblock's log owner before, when the takeover moved it to this host.
        public var previousOwner: MediaUUID?
    }

    public let primary: FilePath
    public let holder: Holder
    public let timing: Timing
    private let device: MappedDevice
    /// The claim this leader holds, once acquired.
    private let claim = Mutex<MediaUUID?>(nil)

    /// Opens the lease of the famfs file system whose primary device is `primary`.
    public init(primary: FilePath, holder: Holder, timing: Timing = .standard) throws(LeaseError) {
        self.primary = primary
        self.holder = holder
        self.timing = timing
        device = try Self.openPrimary(primary)
    }

    /// The record as it is now; nil when there is none or it cannot be read.
    public var record: LeaseRecord? { try? read() }

    /// Takes the lease for `holder`, or throws `.held` naming the live leader.
    @discardableResult
    public func acquire() throws(LeaseError) -> Acquisition {
        let found = settledRead()
        let how: Acquisition
        switch found {
        case nil:
            how = .unclaimed
        case let record? where record.state == .released:
            how = .released(record)
        case let record? where record.host == holder.host && !Self.isRunning(record.pid):
            how = .holderGone(record)
        case let record?:
            how = .stale(try waitForSilence(of: record))
        }
        try claimNow()
        return how
    }

    /// Beats the heartbeat; throws `.lost` (and beats no more) once the record names someone else.
    public func beat() throws(LeaseError) {
        try claim.withLock { mine throws(LeaseError) in
            var record = try held(by: mine)
            record.heartbeat &+= 1
            record.beatAt = Self.wallClock()
            try write(record)
        }
    }

    /// Checks that the lease still names this leader; appends call it first.
    public func verify() throws(LeaseError) {
        try claim.withLock { mine throws(LeaseError) in _ = try held(by: mine) }
    }

    /// Marks the lease released so the next leader starts at once (a clean stop).
    public func release() {
        claim.withLock { mine in
            guard var record = try? held(by: mine) else { return }
            record.state = .released
            record.beatAt = Self.wallClock()
            try? write(record)
            mine = nil
        }
    }

    /// Forcibly frees the lease of the file system on `primary` for a leader that is dead (or
    /// cut off), and makes `host` the superblock's log owner, so a leader can start on `host`.
    /// A leader still running loses the lease: its next append or heartbeat fails.
    public static func takeover(primary: FilePath, host: MediaUUID, pid: Int32 = getpid(),
                                timing: Timing = .standard) throws(LeaseError) -> Takeover {
        let lease = try LeaderLease(primary: primary, holder: Holder(host: host, pid: pid), timing: timing)
        let device = lease.device
        var result = Takeover(previous: lease.settledRead())
        var superblock: Superblock
        do { superblock = try FamfsImage.readSuperblock(device) } catch { throw .notFamfs(error) }
        if superblock.systemUUID != host {
            result.previousOwner = superblock.systemUUID
            superblock.systemUUID = host
            do {
                try device.write(superblock.encoded(), at: 0)
                try device.flush(at: 0, count: Superblock.encodedSize)
            } catch {
                throw .device(error)
            }
        }
        // A leader beating at this instant may overwrite the record once; it is written again
        // until it stays, and that leader's next beat then sees a claim that is not its own.
        let now = wallClock()
        let released = LeaseRecord(state: .released, host: host, claim: .random(), pid: pid,
                                   heartbeat: (result.previous?.heartbeat ?? 0) &+ 1, acquiredAt: now, beatAt: now)
        for _ in 0..<3 {
            try lease.write(released)
            Self.sleep(seconds: timing.heartbeat * 2)
            if (try? lease.read()) == released { break }
        }
        return result
    }

    /// Watches a held record's heartbeat for `staleAfter`: throws `.held` if it moves (or the
    /// record changes hands), returns the record if it stays still.
    private func waitForSilence(of first: LeaseRecord) throws(LeaseError) -> LeaseRecord {
        let deadline = Self.monotonic() + timing.staleAfter
        while Self.monotonic() < deadline {
            Self.sleep(seconds: min(timing.heartbeat / 4, timing.staleAfter / 8))
            // A read torn by a concurrent beat fails its crc and is simply read again.
            guard let now = try? read() else { continue }
            if now.state == .released { return now }
            if now.claim != first.claim || now.heartbeat != first.heartbeat { throw .held(now, primary: primary) }
        }
        return first
    }

    /// Writes a new claim, lets it settle for one heartbeat interval and checks it stood.
    private func claimNow() throws(LeaseError) {
        let mine = MediaUUID.random()
        let now = Self.wallClock()
        try write(LeaseRecord(state: .held, host: holder.host, claim: mine, pid: holder.pid, acquiredAt: now, beatAt: now))
        Self.sleep(seconds: timing.heartbeat)
        let after = try? read()
        guard after?.claim == mine else { throw .lostRace(after, primary: primary) }
        claim.withLock { $0 = mine }
    }

    /// The record, if it still carries the claim `mine`.
    private func held(by mine: MediaUUID?) throws(LeaseError) -> LeaseRecord {
        let record = try? read()
        guard let mine, let record, record.claim == mine, record.state == .held else {
            throw .lost(record, primary: primary)
        }
        return record
    }

    /// The record, read again while a concurrent beat tears it, for up to `staleAfter`; nil
    /// when there is none, or it stayed unreadable (damaged, so nobody is beating it).
    private func settledRead() -> LeaseRecord? {
        let deadline = Self.monotonic() + timing.staleAfter
        while true {
            do throws(LeaseError) {
                return try read()
            } catch {
                guard Self.monotonic() < deadline else { return nil }
                Self.sleep(seconds: timing.heartbeat / 8)
            }
        }
    }

    private func read() throws(LeaseError) -> LeaseRecord? {
        let bytes: [UInt8]
        do { bytes = try device.read(at: LeaseRecord.offset, count: LeaseRecord.encodedSize) } catch { throw .device(error) }
        do { return try LeaseRecord.decode(bytes[...]) } catch { throw .damagedRecord(primary, error) }
    }

    private func write(_ record: LeaseRecord) throws(LeaseError) {
        do {
            try device.write(record.encoded(), at: LeaseRecord.offset)
            try device.flush(at: LeaseRecord.offset, count: LeaseRecord.encodedSize)
        } catch {
            throw .device(error)
        }
    }

    private static func openPrimary(_ path: FilePath) throws(LeaseError) -> MappedDevice {
        let device: MappedDevice
        do { device = try MappedDevice(path: path, access: .readWrite) } catch { throw .device(error) }
        let superblock: Superblock
        do { superblock = try FamfsImage.readSuperblock(device) } catch { throw .notFamfs(error) }
        guard superblock.role == .primary else { throw .notFamfs(.notPrimary(path)) }
        return device
    }

    /// Whether a process of this host with that pid exists (EPERM: it exists, not ours).
    static func isRunning(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    static func monotonic() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    static func wallClock() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return UInt64(spec.tv_sec)
    }

    static func sleep(seconds: Double) {
        guard seconds > 0 else { return }
        usleep(UInt32(min(seconds, 60) * 1_000_000))
    }
}
