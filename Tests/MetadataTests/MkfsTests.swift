#if canImport(Glibc)
import Glibc
#endif
import Devices
import Foundation
@testable import Metadata
import SystemPackage
import Testing

@Suite struct MkfsTests {
    @Test func freshFileSystemChecksClean() throws {
        let fixture = try Fixture()
        let paths = [try fixture.device("dev0"), try fixture.device("dev1", size: 64 << 20)]
        try fixture.mkfs(paths)
        let report = FileSystemCheck.run(devices: paths)
        #expect(report.isClean, "\(report)")
        #expect(report.deviceCount == 2 && report.entryCount == 1)
    }

    @Test func existingFileSystemNeedsForce() throws {
        let fixture = try Fixture()
        let path = try fixture.device("dev0")
        try fixture.mkfs([path])
        #expect(throws: MkfsError.existingFileSystem(path)) { try fixture.mkfs([path]) }
        let second = try fixture.mkfs([path], force: true)
        #expect(try fixture.open([path]).superblock.fileSystemUUID == second.fileSystemUUID)
    }

    @Test func existingSecondaryDeviceNeedsForceToo() throws {
        let fixture = try Fixture()
        let paths = [try fixture.device("dev0"), try fixture.device("dev1", size: 64 << 20)]
        try fixture.mkfs(paths)
        let fresh = try fixture.device("fresh")
        #expect(throws: MkfsError.existingFileSystem(paths[1])) { try fixture.mkfs([fresh, paths[1]]) }
    }

    @Test func tooSmallDevicesAreRefused() throws {
        let fixture = try Fixture()
        let primary = try fixture.device("small", size: 10 << 20)
        #expect {
            try fixture.mkfs([primary])
        } throws: { error in
            if case .tooSmall(primary, 10 << 20, 12 << 20, _) = error as? MkfsError { true } else { false }
        }
        let big = try fixture.device("big")
        let secondary = try fixture.device("tiny", size: 3 << 20)
        #expect {
            try fixture.mkfs([big, secondary])
        } throws: { error in
            if case .tooSmall(secondary, _, 4 << 20, _) = error as? MkfsError { true } else { false }
        }
    }

    @Test func duplicateDevicesAreRefusedEvenThroughAnotherName() throws {
        let fixture = try Fixture()
        let path = try fixture.device("dev0")
        let alias = fixture.directory.appending("alias")
        #expect(symlink(path.string, alias.string) == 0)
        #expect(throws: MkfsError.duplicateDevice(alias, sameAs: path)) { try fixture.mkfs([path, alias]) }
    }

    @Test func unreadableDevicesAreRefused() throws {
        let fixture = try Fixture()
        let missing = fixture.directory.appending("missing")
        #expect(throws: MkfsError.device(.cannotStat(missing, .noSuchFileOrDirectory))) { try fixture.mkfs([missing]) }
        #expect(throws: MkfsError.device(.cannotOpen(fixture.directory, .isDirectory))) { try fixture.mkfs([fixture.directory]) }
    }

    @Test func logLengthMustBeAPowerOfTwoOfAtLeast8MiB() throws {
        let fixture = try Fixture()
        let path = try fixture.device("dev0")
        for length: UInt64 in [4 << 20, 12 << 20] {
            #expect(throws: MkfsError.invalidLogLength(length)) {
                try Mkfs.format(devices: [path], options: .init(logLength: length, systemUUID: fixture.host))
            }
        }
        _ = try Mkfs.format(devices: [path], options: .init(logLength: 16 << 20, systemUUID: fixture.host))
        let image = try fixture.open([path])
        #expect(image.superblock.logLength == 16 << 20)
        #expect(image.freeSlots == LogHeader.slotCount(forLength: 16 << 20))
    }
}

@Suite("This host's system uuid")
struct SystemUUIDTests {
    @Test("famfs's /opt/famfs/system_uuid wins; without it the machine id is written there, so famfs's tools agree")
    func famfsFileFirstThenWrittenFromTheMachineID() throws {
        let fixture = try Fixture()
        let famfs = fixture.directory.appending("opt/famfs/system_uuid")
        let machineID = fixture.directory.appending("machine-id")
        let legacy = fixture.directory.appending("legacy")
        defer {
            // The fixture removes only the files beside its devices.
            unlink(famfs.string)
            rmdir(famfs.removingLastComponent().string)
            rmdir(famfs.removingLastComponent().removingLastComponent().string)
        }
        try "0123456789abcdef0123456789abcdef\n".write(toFile: machineID.string, atomically: true, encoding: .utf8)
        let chosen = try SystemUUID.current(famfs: famfs, machineID: machineID, legacy: legacy)
        #expect(chosen.description == "01234567-89ab-cdef-0123-456789abcdef")
        #expect(try String(contentsOfFile: famfs.string, encoding: .utf8) == "01234567-89ab-cdef-0123-456789abcdef\n")
        let famfsOwn = "5f3a1c2e-9b7d-4e6f-8a1b-2c3d4e5f6a7b"
        try "\(famfsOwn)\n".write(toFile: famfs.string, atomically: true, encoding: .utf8)
        #expect(try SystemUUID.current(famfs: famfs, machineID: machineID, legacy: legacy).description == famfsOwn)
    }
}
