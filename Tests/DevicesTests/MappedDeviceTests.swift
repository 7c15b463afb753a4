import Devices
import SystemPackage
import Testing

@Suite struct MappedDeviceTests {
    @Test func fileBackedDeviceCapacityIsItsSize() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.file("dev0", size: 8 << 20)
        let device = try MappedDevice(path: path, access: .readWrite)
        #expect(device.size == 8 << 20)
        #expect(device.kind == .file)
    }

    @Test func writesAreVisibleThroughAnotherMapping() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.file("dev0", size: 4 << 20)
        let writer = try MappedDevice(path: path, access: .readWrite)
        try writer.write([1, 2, 3, 4], at: 3 << 20)
        try writer.flush(at: 3 << 20, count: 4)
        let reader = try MappedDevice(path: path, access: .readOnly)
        #expect(try reader.read(at: 3 << 20, count: 4) == [1, 2, 3, 4])
    }

    @Test func accessOutsideTheDeviceIsRefused() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.file("dev0", size: 1 << 20)
        let device = try MappedDevice(path: path, access: .readWrite)
        #expect(throws: DeviceError.outOfBounds(path, offset: (1 << 20) - 2, count: 4, size: 1 << 20)) {
            try device.read(at: (1 << 20) - 2, count: 4)
        }
        #expect(throws: DeviceError.outOfBounds(path, offset: .max, count: 2, size: 1 << 20)) {
            try device.write([0, 0], at: .max)
        }
    }

    @Test func readOnlyDeviceRefusesWrites() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.file("dev0", size: 1 << 20)
        let device = try MappedDevice(path: path, access: .readOnly)
        #expect(throws: DeviceError.readOnly(path)) { try device.write([1], at: 0) }
    }

    @Test func missingEmptyAndDirectoryPathsAreRefusedWithTheirErrno() throws {
        let directory = try TemporaryDirectory()
        let missing = directory.path.appending("absent")
        #expect(throws: DeviceError.cannotOpen(missing, .noSuchFileOrDirectory)) {
            try MappedDevice(path: missing, access: .readWrite)
        }
        let empty = try directory.file("empty", size: 0)
        #expect(throws: DeviceError.empty(empty)) { try MappedDevice(path: empty, access: .readWrite) }
        #expect(throws: DeviceError.unsupportedType(directory.path)) {
            try MappedDevice(path: directory.path, access: .readOnly)
        }
    }

    @Test func characterDeviceThatIsNotDevdaxIsRefused() throws {
        let null: FilePath = "/dev/null"
        #expect(throws: DeviceError.notDevdax(null)) { try MappedDevice(path: null, access: .readOnly) }
    }
}

@Suite struct DaxDiscoveryTests {
    @Test func discoveryReturnsCleanlyOnAMachineWithoutDevdax() throws {
        let devices = try DaxDiscovery.devices()
        for device in devices {
            #expect(device.path.string.hasPrefix("/dev/dax"))
            #expect(device.size > 0)
        }
    }
}
