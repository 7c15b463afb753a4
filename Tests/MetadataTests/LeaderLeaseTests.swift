#if canImport(Glibc)
import Glibc
#endif
import Devices
import Foundation
@testable import Metadata
import Synchronization
import SystemPackage
import Testing

/// The lease that keeps a second leader off the log, with timings short enough for tests.
@Suite struct LeaderLeaseTests {
    // Short, but with room for a heartbeat thread starved by the rest of a parallel test run.
    static let quick = LeaderLease.Timing(heartbeat: 0.05, staleAfter: 1.0)
    /// Above Linux's largest pid_max (2^22), so no process has it.
    static let deadPid: Int32 = 0x7fff_fff0

    func formatted() throws -> (Fixture, FilePath) {
        let fixture = try Fixture()
        let path = try fixture.device("dev0")
        try fixture.mkfs([path])
        return (fixture, path)
    }

    func lease(_ path: FilePath, host: MediaUUID, pid: Int32 = getpid()) throws -> LeaderLease {
        try LeaderLease(primary: path, holder: .init(host: host, pid: pid), timing: Self.quick)
    }

    @Test func recordRoundTripsAndSitsInTheReservationAfterTheSuperblock() throws {
        let record = LeaseRecord(state: .held, host: .random(), claim: .random(), pid: 4242, heartbeat: 7,
                                 acquiredAt: 1_700_000_000, beatAt: 1_700_000_009)
        let bytes = record.encoded()
        #expect(bytes.count == LeaseRecord.encodedSize)
        #expect(try LeaseRecord.decode(bytes[...]) == record)
        #expect(LeaseRecord.offset >= UInt64(Superblock.encodedSize))
        #expect(LeaseRecord.offset + UInt64(LeaseRecord.encodedSize) <= FamfsMedia.superblockReservation)
        #expect(try LeaseRecord.decode([UInt8](repeating: 0, count: LeaseRecord.encodedSize)[...]) == nil)
        var damaged = bytes
        damaged[60] ^= 0xff
        #expect(throws: MediaFormatError.self) { try LeaseRecord.decode(damaged[...]) }
    }

    @Test func firstLeaderClaimsAnUnclaimedLeaseAndReleaseFreesIt() throws {
        let (fixture, path) = try formatted()
        defer { withExtendedLifetime(fixture) {} }
        let host = MediaUUID.random()
        let first = try lease(path, host: host)
        #expect(try first.acquire() == .unclaimed)
        #expect(first.record?.state == .held && first.record?.host == host && first.record?.pid == getpid())
        try first.beat()
        #expect(first.record?.heartbeat == 1)
        first.release()
        #expect(first.record?.state == .released)
        let next = try lease(path, host: .random())
        guard case .released = try next.acquire() else { Issue.record("a released lease is claimed at once"); return }
    }

    @Test func secondLeaderIsRefusedWhileTheHeartbeatMovesAndTheErrorNamesTheHolder() throws {
        let (fixture, path) = try formatted()
        defer { withExtendedLifetime(fixture) {} }
        let leaderHost = MediaUUID.random()
        let leader = try lease(path, host: leaderHost)
        try leader.acquire()
        let beating = Mutex(true)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            while beating.withLock({ $0 }) {
                try? leader.beat()
                usleep(50_000)
            }
            done.signal()
        }
        defer {
            beating.withLock { $0 = false }
            done.wait()
        }
        let contender = try lease(path, host: .random())
        let started = LeaderLease.monotonic()
        #expect {
            try contender.acquire()
        } throws: { error in
            guard case .held(let record, _) = error as? LeaseError else { return false }
            let message = "\(error)"
            return record.host == leaderHost && message.contains("\(leaderHost)") && message.contains("pid \(getpid())")
                && message.contains("famfs-policy takeover")
        }
        #expect(LeaderLease.monotonic() - started < Self.quick.staleAfter)
        try leader.verify()
    }

    @Test func silentHeartbeatIsStaleAndItsLeaderLosesTheLease() throws {
        let (fixture, path) = try formatted()
        defer { withExtendedLifetime(fixture) {} }
        let silent = try lease(path, host: .random())
        try silent.acquire()
        let contender = try lease(path, host: .random())
        let started = LeaderLease.monotonic()
        guard case .stale = try contender.acquire() else { Issue.record("a silent lease is stale"); return }
        #expect(LeaderLease.monotonic() - started >= Self.quick.staleAfter)
        #expect(throws: LeaseError.self) { try silent.verify() }
        #expect(throws: LeaseError.self) { try silent.beat() }
        try contender.verify()
    }

    @Test func leaderOfThisHostThatNoLongerRunsIsReplacedWithoutWaiting() throws {
        let (fixture, path) = try formatted()
        defer { withExtendedLifetime(fixture) {} }
        let host = MediaUUID.random()
        try lease(path, host: host, pid: Self.deadPid).acquire()
        let restarted = try lease(path, host: host)
        let started = LeaderLease.monotonic()
        guard case .holderGone(let previous) = try restarted.acquire() else { Issue.record("a dead holder is replaced"); return }
        #expect(previous.pid == Self.deadPid)
        #expect(LeaderLease.monotonic() - started < Self.quick.staleAfter)
    }

    @Test func takeoverFreesTheLeaseMovesTheLogOwnerAndStopsTheOldLeadersAppends() throws {
        let (fixture, path) = try formatted()
        let oldLeader = try lease(path, host: fixture.host)
        try oldLeader.acquire()
        let image = try fixture.open([path])
        image.requireLease(oldLeader)
        try image.appendMkdir(DirectoryEntry(path: try RelativePath("before"), uid: 0, gid: 0, mode: 0o755))

        let newHost = MediaUUID.random()
        let result = try LeaderLease.takeover(primary: path, host: newHost, timing: Self.quick)
        #expect(result.previous?.host == fixture.host)
        #expect(result.previousOwner == fixture.host)
        #expect(throws: LeaseError.self) { try oldLeader.beat() }
        #expect {
            try image.appendMkdir(DirectoryEntry(path: try RelativePath("after"), uid: 0, gid: 0, mode: 0o755))
        } throws: { error in
            guard case .lease = error as? ImageError else { return false }
            return (error as? ImageError)?.errno == .readOnlyFileSystem
        }

        let newLeader = try lease(path, host: newHost)
        guard case .released = try newLeader.acquire() else { Issue.record("a taken-over lease is free"); return }
        let reopened = try FamfsImage.open(devices: [path], access: .readWrite, host: newHost)
        reopened.requireLease(newLeader)
        try reopened.appendMkdir(DirectoryEntry(path: try RelativePath("after"), uid: 0, gid: 0, mode: 0o755))
        #expect(reopened.entries.count == 2)
        #expect(throws: ImageError.self) { try fixture.open([path]) }
    }
}
