import Allocation
import Fmap
import Foundation
import Logging
import Metadata
import Policy
import Server
import SystemPackage

/// A famfs file system on file-backed devices in a unique /dev/shm directory, mounted for
/// real and served by the daemon's code on a background thread. `close()` always unmounts.
final class MountedFileSystem: @unchecked Sendable {
    let directory: String
    let devicePaths: [String]
    let mountpoint: String
    let image: FamfsImage
    private let mount: FuseMount
    private let served = DispatchSemaphore(value: 0)
    private var closed = false

    static let deviceSize: UInt64 = 256 << 20

    /// Formats `deviceCount` devices (or reuses `reusing`'s devices) and mounts them.
    /// `layoutFor` builds the policy once the device paths are known.
    /// With `staging`, passthrough files live in `<directory>/staging`.
    init(deviceCount: Int = 2, reusing previous: MountedFileSystem? = nil, logger: Logger? = nil, staging: Bool = false,
         layoutFor: ([String]) throws -> WorkerPolicyFactory = { _ in { ContiguousLayout() } }) throws {
        let host = try SystemUUID.current()
        if let previous {
            directory = previous.directory
            devicePaths = previous.devicePaths
        } else {
            let fresh = "/dev/shm/famfs-test-\(UUID().uuidString.prefix(8))"
            directory = fresh
            try FileManager.default.createDirectory(atPath: fresh, withIntermediateDirectories: true)
            devicePaths = (0..<deviceCount).map { "\(fresh)/dev\($0)" }
            for path in devicePaths {
                _ = FileManager.default.createFile(atPath: path, contents: nil)
                guard truncate(path, off_t(Self.deviceSize)) == 0 else { throw Errno(rawValue: errno) }
            }
            _ = try Mkfs.format(devices: devicePaths.map { FilePath($0) }, options: .init(systemUUID: host))
        }
        mountpoint = "\(directory)/mnt"
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        image = try FamfsImage.open(devices: devicePaths.map { FilePath($0) }, access: .readWrite, host: host)
        let logger = logger ?? {
            var quiet = Logger(label: "test")
            quiet.logLevel = .warning
            return quiet
        }()
        let layout = try layoutFor(devicePaths)
        let stagingArea: StagingArea?
        if staging {
            try FileManager.default.createDirectory(atPath: "\(directory)/staging", withIntermediateDirectories: true)
            stagingArea = try StagingArea(path: "\(directory)/staging")
        } else {
            stagingArea = nil
        }
        let fileSystem = FileSystem(image: image, staging: stagingArea, logger: logger)
        mount = try FuseMount(mountpoint: mountpoint, options: ["fsname=famfs-test", "default_permissions"])
        let server = FuseServer(fileSystem: fileSystem, makePolicy: layout, workerCount: 2, logger: logger)
        let channel = mount.channel
        let done = served
        let serverLogger = logger
        Thread.detachNewThread {
            do { try server.serve(channel) } catch { serverLogger.error("server stopped: \(error)") }
            done.signal()
        }
    }

    /// Unmounts and waits for the server to stop; a stuck mount is detached lazily.
    func unmount() {
        guard !closed else { return }
        closed = true
        mount.unmount()
        if served.wait(timeout: .now() + 10) == .timedOut {
            _ = try? Process.run(URL(fileURLWithPath: "/bin/umount"), arguments: ["-l", mountpoint]).waitUntilExit()
        }
    }

    /// Unmounts and removes the devices.
    func close() {
        unmount()
        try? FileManager.default.removeItem(atPath: directory)
    }

    func path(_ relative: String) -> String { "\(mountpoint)/\(relative)" }

    var stagingDirectory: String { "\(directory)/staging" }
}

/// Runs `body` against a freshly mounted file system and always cleans up.
func withMountedFileSystem(deviceCount: Int = 2, layout: @escaping WorkerPolicyFactory = { ContiguousLayout() },
                           _ body: (MountedFileSystem) throws -> Void) throws {
    let fileSystem = try MountedFileSystem(deviceCount: deviceCount, layoutFor: { _ in layout })
    defer { fileSystem.close() }
    try body(fileSystem)
}

/// Test policies that place every file on DAX, never commit, and name devices by the paths
/// the daemon opened; each supplies its own layout.
protocol DaxOnlyPolicy: WorkerPolicy {}

extension DaxOnlyPolicy {
    func resolveDevice(_ index: UInt32, devicePath: String) throws(NamespaceError) -> String { devicePath }
    func placement(_ file: FileFacts) throws(NamespaceError) -> Placement { .dax }
    func shouldCommitOnRelease(_ file: FileFacts) throws(NamespaceError) -> Bool { false }
}

/// A policy for server tests that are not about policies: one contiguous extent on the
/// device with the most free space.
final class ContiguousLayout: DaxOnlyPolicy {
    func layout(_ file: FileFacts, allocation: inout AllocationState) throws(NamespaceError) -> Fmap {
        let device = allocation.devices.indices.max { allocation.devices[$0].freeBytes < allocation.devices[$1].freeBytes } ?? 0
        do {
            let extent = try allocation.allocate(device: UInt32(device), bytes: file.size, alignment: FmapLimits.mib2)
            return Fmap(fileSize: file.size, extents: .simple([extent]))
        } catch {
            throw NamespaceError(.noSpace, "\(error)")
        }
    }
}

/// A policy for server tests that need interleaving: one strip per device, 2 MiB chunks.
final class StripedLayout: DaxOnlyPolicy {
    func layout(_ file: FileFacts, allocation: inout AllocationState) throws(NamespaceError) -> Fmap {
        let chunk = FmapLimits.mib2
        let count = UInt64(allocation.devices.count)
        let chunks = (file.size + chunk - 1) / chunk
        let stripLength = max(1, (chunks + count - 1) / count) * chunk
        do {
            let strips = try (0..<UInt32(count)).map { device throws(AllocationError) in
                try allocation.allocate(device: device, bytes: stripLength, alignment: chunk)
            }
            return Fmap(fileSize: file.size, extents: .interleaved([InterleavedExtent(chunkSize: chunk, byteCount: file.size, strips: strips)]))
        } catch {
            throw NamespaceError(.noSpace, "\(error)")
        }
    }
}
