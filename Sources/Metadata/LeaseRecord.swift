import WireBytes

/// The leader's lease on the log: which host and process may append, and a heartbeat counter
/// that shows it is alive.
///
/// It lives in the primary device at `offset` (4 KiB), inside the 2 MiB superblock
/// reservation and after famfs's 200-byte superblock. famfs reads and checks only the
/// superblock struct at offset 0 and allocates nothing below 2 MiB, so famfs's tools neither
/// see nor disturb the record. `Mkfs` zeroes the reservation; a device without the record's
/// magic reads as unclaimed. The record has its own page so its writes never share a cache line
/// with the superblock.
///
/// | offset | field |
/// | --- | --- |
/// | 0 | magic u64 |
/// | 8 | version u32 |
/// | 12 | state u32 (released 0, held 1) |
/// | 16 | holder host uuid (16 bytes) |
/// | 32 | claim uuid (16 bytes): new on every acquire and takeover |
/// | 48 | holder pid i32, 4 bytes padding |
/// | 56 | heartbeat counter u64 |
/// | 64 | acquired at, seconds since the epoch u64 |
/// | 72 | last beat at, seconds since the epoch u64 (for people: hosts' clocks differ) |
/// | 80 | crc u64 = zlib crc32 of bytes [0, 80) |
public struct LeaseRecord: Hashable, Sendable, CustomStringConvertible {
    public enum State: UInt32, Sendable {
        /// Nobody leads; the next leader claims it at once.
        case released = 0
        case held = 1
    }

    public static let offset: UInt64 = 0x1000
    public static let encodedSize = 88
    public static let crcOffset = 80
    /// "famfsLEA" read as a little-endian u64.
    public static let magic: UInt64 = 0x4145_4c73_666d_6166
    public static let version: UInt32 = 1

    public var state: State
    public var host: MediaUUID
    /// Identifies one claim: a leader checks the record still carries its own.
    public var claim: MediaUUID
    public var pid: Int32
    /// Bumped by every heartbeat; a contender watches it move, so clocks need not agree.
    public var heartbeat: UInt64
    public var acquiredAt: UInt64
    public var beatAt: UInt64

    public init(state: State, host: MediaUUID, claim: MediaUUID, pid: Int32, heartbeat: UInt64 = 0,
                acquiredAt: UInt64, beatAt: UInt64) {
        self.state = state
        self.host = host
        self.claim = claim
        self.pid = pid
        self.heartbeat = heartbeat
        self.acquiredAt = acquiredAt
        self.beatAt = beatAt
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: Self.encodedSize)
        writer.write(Self.magic)
        writer.write(Self.version)
        writer.write(state.rawValue)
        writer.write(bytes: host.bytes)
        writer.write(bytes: claim.bytes)
        writer.write(pid)
        writer.writeZeros(4)
        writer.write(heartbeat)
        writer.write(acquiredAt)
        writer.write(beatAt)
        writer.write(Checksum.crc32(writer.bytes[0..<Self.crcOffset]))
        return writer.bytes
    }

    /// Decodes a record; nil when there is none (no magic: a device never led by this daemon).
    /// Throws for a record that is there but damaged or torn by a concurrent write.
    public static func decode(_ bytes: ArraySlice<UInt8>) throws(MediaFormatError) -> LeaseRecord? {
        var reader = MediaReader(bytes, structure: "lease record")
        let magic: UInt64 = try reader.read("magic")
        guard magic == Self.magic else { return nil }
        let version: UInt32 = try reader.read("version")
        let rawState: UInt32 = try reader.read("state")
        let host = try reader.uuid("host")
        let claim = try reader.uuid("claim")
        let pid: Int32 = try reader.read("pid")
        try reader.skip(4, "pid padding")
        let heartbeat: UInt64 = try reader.read("heartbeat")
        let acquiredAt: UInt64 = try reader.read("acquired_at")
        let beatAt: UInt64 = try reader.read("beat_at")
        let stored: UInt64 = try reader.read("crc")
        let start = bytes.startIndex
        let computed = Checksum.crc32(bytes[start..<(start + Self.crcOffset)])
        guard stored == computed else { throw .checksumMismatch(structure: "lease record", stored: stored, computed: computed) }
        guard version == Self.version else { throw reader.invalid("version", UInt64(version), "is not \(Self.version)") }
        guard let state = State(rawValue: rawState) else {
            throw reader.invalid("state", UInt64(rawState), "is neither released (0) nor held (1)")
        }
        return LeaseRecord(state: state, host: host, claim: claim, pid: pid, heartbeat: heartbeat,
                           acquiredAt: acquiredAt, beatAt: beatAt)
    }

    public var description: String {
        let verb = state == .held ? "held" : "released"
        return "\(verb) by host \(host) pid \(pid) (heartbeat \(heartbeat), last beat at \(beatAt) s since the epoch)"
    }
}
