import Allocation
import Devices
import Fmap
import Synchronization
import SystemPackage

/// An open famfs file system: its mapped devices, the replayed log, and the allocation state.
///
/// Devices are given in index order: the primary (superblock and log) first, then the extra
/// devices as mkfs was given them; each extra device's secondary superblock must carry the
/// uuid its ADD_DAXDEV entry records (see `Superblock`). Appends are serialised: each writes
/// and flushes its entry, then bumps and flushes the header, so a crash leaves at most a
/// torn entry that the next replay ignores. Safe to share between threads.
public final class FamfsImage: Sendable {
    public let superblock: Superblock
    /// Mapped devices by device index.
    public let devices: [MappedDevice]
    public let access: MappedDevice.Access
    /// What replay found at open; the daemon logs each one.
    public let findings: [ReplayFinding]
    private let log: Mutex<LogState>
    /// The lease that must still name this writer before each append (`requireLease`).
    private let lease = Mutex<LeaderLease?>(nil)
    /// Told of each durable step of an append (`open(...observingAppends:)`).
    private let appendObserver: (@Sendable (AppendStep) -> Void)?

    /// The points of an append at which its bytes are on the device, in the order they are reached.
    public enum AppendStep: String, Sendable {
        /// The entry is written and flushed; the header does not count it yet, so a replay ignores it.
        case entryWritten = "log-entry-written"
        /// The header counting the entry is written and flushed: the entry is durable.
        case headerWritten = "log-header-written"
    }

    private struct LogState: Sendable {
        var header: LogHeader
        var appendIndex: UInt64
        var entries: [IndexedEntry]
        var allocation: AllocationState
        /// A read-only image's view of the writer's progress (`refresh`).
        var follower: LogFollower?
    }

    /// Opens and replays the file system on `paths` (primary first). A writer (`.readWrite`)
    /// must be the host the superblock names (`host`, usually `SystemUUID.current()`).
    /// `appendObserver` runs at each `AppendStep` of every append, under the log's lock (crash
    /// tests stop the process there).
    public static func open(devices paths: [FilePath], access: MappedDevice.Access, host: MediaUUID? = nil,
                            observingAppends appendObserver: (@Sendable (AppendStep) -> Void)? = nil) throws(ImageError) -> FamfsImage {
        guard let primaryPath = paths.first else { throw .noDevices }
        let primary = try openDevice(primaryPath, access: access)
        let (superblock, header, replay) = try replayLog(of: primary)
        var mapped = [primary]
        for record in replay.devices.dropFirst() {
            guard Int(record.index) < paths.count else { throw .missingDevice(index: record.index, uuid: record.uuid) }
            mapped.append(try openSecondary(paths[Int(record.index)], record: record, of: superblock,
                                            known: replay.devices, access: access))
        }
        if paths.count > mapped.count, replay.firstFault == nil {
            throw .unexpectedDevice(paths[mapped.count], deviceCount: mapped.count)
        }
        if access == .readWrite, host != superblock.systemUUID {
            throw .notLogOwner(host: host, owner: superblock.systemUUID)
        }
        return FamfsImage(superblock: superblock, devices: mapped, access: access, header: header, replay: replay,
                          appendObserver: appendObserver)
    }

    private init(superblock: Superblock, devices: [MappedDevice], access: MappedDevice.Access,
                 header: LogHeader, replay: LogReplay, appendObserver: (@Sendable (AppendStep) -> Void)?) {
        self.appendObserver = appendObserver
        self.superblock = superblock
        self.devices = devices
        self.access = access
        findings = replay.findings
        var follower: LogFollower?
        if access == .readOnly {
            follower = LogFollower(continuing: replay)
            follower?.forgetConsumedEntries()
        }
        log = Mutex(LogState(header: header, appendIndex: replay.appendIndex,
                             entries: replay.entries, allocation: replay.allocation, follower: follower))
    }

    /// Valid entries in log order.
    public var entries: [IndexedEntry] { log.withLock { $0.entries } }

    /// The allocation state: reserved metadata plus every recorded file.
    public var allocation: AllocationState { log.withLock { $0.allocation } }

    /// Free entry slots left in the log.
    public var freeSlots: UInt64 { log.withLock { $0.header.slotCount - $0.appendIndex } }

    /// Records a directory. Returns once the entry is durable.
    @discardableResult
    public func appendMkdir(_ directory: DirectoryEntry) throws(ImageError) -> IndexedEntry {
        try append { _ throws(ImageError) in .mkdir(directory) }
    }

    /// Records a file whose fmap was laid out elsewhere; its memory must be free.
    @discardableResult
    public func appendFile(_ file: FileEntry) throws(ImageError) -> IndexedEntry {
        try appendFile(path: file.path, flags: file.flags, uid: file.uid, gid: file.gid, mode: file.mode) {
            state throws(AllocationError) in
            try state.claim(file.fmap, owner: "'\(file.path)'")
            return file.fmap
        }
    }

    /// Allocates and records a file in one step: `layout` allocates from the live state under
    /// the log's lock and returns the fmap; if it or the append fails, its allocations are undone.
    @discardableResult
    public func appendFile(path: RelativePath, flags: FileEntry.Flags = .allHostsReadWrite,
                           uid: UInt32, gid: UInt32, mode: UInt32,
                           layout: (inout AllocationState) throws(AllocationError) -> Fmap) throws(ImageError) -> IndexedEntry {
        try append { allocation throws(ImageError) in
            do throws(AllocationError) {
                let fmap = try layout(&allocation)
                return .file(FileEntry(path: path, flags: flags, uid: uid, gid: gid, mode: mode, fmap: fmap))
            } catch {
                throw .allocation(error)
            }
        }
    }

    /// Reads the log header again and takes in the entries a writer on another host (or
    /// process) committed since the last call; see `LogFollower` for what is consumed and when.
    /// Only a read-only image follows: a writer's log changes through its own appends, so for it
    /// this returns nothing. Throws when the header cannot be read, which a caller retries.
    public func refresh() throws(ImageError) -> LogProgress {
        guard access == .readOnly else { return LogProgress() }
        let header = try Self.readHeader(of: devices[0], superblock: superblock)
        let slot = Self.slotReader(of: devices[0], superblock: superblock)
        return log.withLock { state in
            guard var follower = state.follower else { return LogProgress() }
            let progress = follower.follow(header: header, slot: slot)
            follower.forgetConsumedEntries()
            state.entries += progress.entries
            state.allocation = follower.replay.allocation
            state.appendIndex = follower.replay.appendIndex
            state.header = header
            state.follower = follower
            return progress
        }
    }

    /// From now on every append first checks that `lease` still names this writer, so a
    /// writer whose lease was taken over (`famfs-policy takeover`) stops appending.
    public func requireLease(_ lease: LeaderLease) {
        self.lease.withLock { $0 = lease }
    }

    private func append(_ makeEntry: (inout AllocationState) throws(ImageError) -> LogEntry) throws(ImageError) -> IndexedEntry {
        guard access == .readWrite else { throw .readOnly }
        if let fault = findings.first(where: \.isFault) { throw .logDamaged(fault) }
        return try log.withLock { state throws(ImageError) -> IndexedEntry in
            if let lease = lease.withLock({ $0 }) {
                do throws(LeaseError) { try lease.verify() } catch { throw .lease(error) }
            }
            guard state.appendIndex < state.header.slotCount else { throw .logFull(slots: state.header.slotCount) }
            let saved = state.allocation
            do throws(ImageError) {
                let entry = try makeEntry(&state.allocation)
                let index = state.appendIndex
                let bytes: [UInt8]
                do throws(MediaFormatError) { bytes = try entry.encoded(seqnum: index) } catch { throw ImageError.entry(error) }
                var header = state.header
                header.nextIndex = index + 1
                header.nextSeqnum = index + 1
                try write(bytes, at: superblock.logOffset + LogHeader.offset(ofSlot: index))
                appendObserver?(.entryWritten)
                try write(header.encoded(), at: superblock.logOffset)
                appendObserver?(.headerWritten)
                state.header = header
                state.appendIndex = index + 1
                let indexed = IndexedEntry(index: index, entry: entry)
                state.entries.append(indexed)
                return indexed
            } catch {
                state.allocation = saved
                throw error
            }
        }
    }

    /// Writes and flushes log bytes on the primary device.
    private func write(_ bytes: [UInt8], at offset: UInt64) throws(ImageError) {
        do {
            try devices[0].write(bytes, at: offset)
            try devices[0].flush(at: offset, count: bytes.count)
        } catch {
            throw .device(error)
        }
    }

    /// The primary device's superblock and log header, and its log replayed. Replay needs
    /// no other device: the log records each extra device's size, which bounds its extents.
    static func replayLog(of primary: MappedDevice) throws(ImageError) -> (Superblock, LogHeader, LogReplay) {
        let superblock = try readSuperblock(primary)
        guard superblock.role == .primary else { throw .notPrimary(primary.path) }
        let header = try readHeader(of: primary, superblock: superblock)
        let replay = LogReplay(superblock: superblock, header: header, slot: slotReader(of: primary, superblock: superblock))
        return (superblock, header, replay)
    }

    /// The log header as the primary device holds it now (past this CPU's cache).
    private static func readHeader(of primary: MappedDevice, superblock: Superblock) throws(ImageError) -> LogHeader {
        let bytes: [UInt8]
        do { bytes = try primary.read(at: superblock.logOffset, count: LogHeader.encodedSize) } catch { throw .device(error) }
        do {
            return try LogHeader(decoding: bytes[...], expectedLength: superblock.logLength)
        } catch {
            throw .logHeader(primary.path, error)
        }
    }

    /// Reads log slot `index` from the primary device; empty when it cannot be read.
    private static func slotReader(of primary: MappedDevice, superblock: Superblock) -> (UInt64) -> ArraySlice<UInt8> {
        let slotBase = superblock.logOffset
        return { index in
            let bytes = try? primary.read(at: slotBase + LogHeader.offset(ofSlot: index), count: LogEntry.encodedSize)
            return bytes?[...] ?? []
        }
    }

    /// Opens the primary device read-only and replays its log alone (`famfs-policy check DEV0`).
    public static func replayPrimary(_ path: FilePath) throws(ImageError) -> LogReplay {
        try replayLog(of: try openDevice(path, access: .readOnly)).2
    }

    private static func openDevice(_ path: FilePath, access: MappedDevice.Access) throws(ImageError) -> MappedDevice {
        do { return try MappedDevice(path: path, access: access) } catch { throw .device(error) }
    }

    static func readSuperblock(_ device: MappedDevice) throws(ImageError) -> Superblock {
        let bytes: [UInt8]
        do { bytes = try device.read(at: 0, count: Superblock.encodedSize) } catch { throw .device(error) }
        do {
            let superblock = try Superblock(decoding: bytes[...])
            try superblock.validate(deviceSize: device.size)
            return superblock
        } catch {
            throw .superblock(device.path, error)
        }
    }

    /// Opens the path given for device `record.index` and checks it carries that device's uuid.
    private static func openSecondary(_ path: FilePath, record: DeviceEntry, of primary: Superblock,
                                      known: [DeviceEntry], access: MappedDevice.Access) throws(ImageError) -> MappedDevice {
        let device = try openDevice(path, access: access)
        let superblock = try readSuperblock(device)
        guard superblock.fileSystemUUID == primary.fileSystemUUID else {
            throw .foreignDevice(path, index: record.index, expected: primary.fileSystemUUID, found: superblock.fileSystemUUID)
        }
        guard superblock.role == .secondary, superblock.deviceUUID == record.uuid else {
            throw .wrongDevice(path, index: record.index, expected: record.uuid, found: superblock.deviceUUID,
                               foundIndex: known.first { $0.uuid == superblock.deviceUUID }?.index)
        }
        guard device.size >= record.size else {
            throw .deviceTruncated(path, index: record.index, recorded: record.size, actual: device.size)
        }
        return device
    }
}
