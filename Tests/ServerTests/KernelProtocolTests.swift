import Fmap
import Foundation
import LogCapture
import Metadata
import Server
import SystemPackage
import Testing

/// Files written through a real mount, then served to the in-test kernel from the same devices.
struct ServedFiles {
    var devicePaths: [String]
    /// Path relative to the root → the bytes a read through the real mount returned.
    var contents: [String: [UInt8]]
    /// Path → the fmap the `user.famfs.fmap` xattr showed.
    var fmaps: [String: Fmap]
}

/// Formats devices, writes `sizes` files through a real mount with `layout`, unmounts, and
/// hands the devices and what was read back to `body`.
func withFilesWrittenThroughAMount(deviceCount: Int, sizes: [Int], layout: @escaping WorkerPolicyFactory,
                                   _ body: (ServedFiles) throws -> Void) throws {
    try withFilesWrittenThroughAMount(deviceCount: deviceCount, sizes: sizes, layoutFor: { _ in layout }, body)
}

func withFilesWrittenThroughAMount(deviceCount: Int, sizes: [Int], layoutFor: ([String]) throws -> WorkerPolicyFactory,
                                   _ body: (ServedFiles) throws -> Void) throws {
    let mounted = try MountedFileSystem(deviceCount: deviceCount, layoutFor: layoutFor)
    defer { mounted.close() }
    var served = ServedFiles(devicePaths: mounted.devicePaths, contents: [:], fmaps: [:])
    for (index, size) in sizes.enumerated() {
        let name = "file\(index).bin"
        try writeFile(mounted.path(name), size: size, data: randomBytes(size))
        served.contents[name] = try readFile(mounted.path(name))
        let json = try #require(xattr(mounted.path(name), "user.famfs.fmap"))
        served.fmaps[name] = try JSONDecoder().decode(Fmap.self, from: Data(json.utf8))
    }
    mounted.unmount()
    try body(served)
}

/// The daemon's server on `devices`, speaking to a test kernel.
func withTestKernel(devices: [String], profile: KernelProfile.Request, log: CapturedLog,
                    makePolicy: @escaping WorkerPolicyFactory = { ContiguousLayout() },
                    _ body: (TestKernel) throws -> Void) throws {
    let image = try FamfsImage.open(devices: devices.map { FilePath($0) }, access: .readWrite, host: try SystemUUID.current())
    var negotiation = InitNegotiation()
    negotiation.kernelProfile = profile
    let server = FuseServer(fileSystem: FileSystem(image: image, logger: log.logger), makePolicy: makePolicy,
                            negotiation: negotiation, workerCount: 2, logger: log.logger)
    let kernel = try TestKernel(server: server)
    defer { kernel.close() }
    try body(kernel)
}

let daxFmapFlags2: UInt32 = 1 << (43 - 32)

@Suite("famfs kernel protocol through an in-test kernel", .serialized)
struct KernelProtocolTests {
    static let sizes = [1, 2 << 20, 5 << 20 + 17, 9 << 20]

    /// Plays the kernel's open of each served file: OPEN, GET_FMAP checked by `rules`, under
    /// pull a GET_DAXDEV for each device index the fmap uses that it does not know yet (pushed
    /// devices are known up front), then sampled offsets resolved and read from the device the
    /// daemon named, and RELEASE.
    func expectKernelSeesTheMountedBytes(_ kernel: TestKernel, _ served: ServedFiles, rules: KernelFmap.Rules,
                                         shortLast: Bool = false) throws {
        var known: [UInt32: String] = [:]
        if rules.simpleOnly {
            for (index, path) in served.devicePaths.enumerated() { known[UInt32(index)] = path }
        }
        for (name, bytes) in served.contents {
            let node = try #require(try kernel.lookup(name))
            let opened = try kernel.open(node)
            #expect(opened.error == 0)
            let reply = try kernel.getFmap(node)
            #expect(reply.error == 0, "GET_FMAP \(name)")
            let fmap = try KernelFmap(reply: reply.body, rules: rules, lastExtentMayBeShort: shortLast)
            #expect(fmap.fileType == 0 && fmap.fileSize == UInt64(bytes.count))
            #expect(try kernel.size(of: node) == fmap.fileSize, "GETATTR must agree with the fmap")
            for device in fmap.devices where known[device] == nil {
                known[device] = try TestKernel.daxdevName(try kernel.getDaxdev(UInt64(device)))
            }
            for offset in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 37)) + [bytes.count - 1] {
                let location = try #require(fmap.resolve(UInt64(offset)))
                let device = try #require(known[location.device], "device \(location.device) was never named")
                let onDevice = try readDevice(device, at: location.offset, count: 1)
                #expect(onDevice == [bytes[offset]], "\(name) offset \(offset)")
            }
            #expect(try kernel.release(node, handle: opened.handle) == 0)
        }
    }

    @Test("posted: every fmap of stripe.lua and contiguous.lua passes the kernel's rules and maps the bytes a real mount read",
          arguments: ["stripe.lua", "contiguous.lua"])
    func postedSingleDevice(policy: String) throws {
        do {
            try withFilesWrittenThroughAMount(deviceCount: 1, sizes: Self.sizes, layoutFor: { paths in
                try policyFactory("\(repositoryRoot)/policies/\(policy)", devices: paths)
            }) { served in
                let log = CapturedLog()
                let policy = try policyFactory("\(repositoryRoot)/policies/\(policy)", devices: served.devicePaths)
                try withTestKernel(devices: served.devicePaths, profile: .fixed(.posted), log: log, makePolicy: policy) { kernel in
                    let accepted = try kernel.initialize(minor: 45, flags2: daxFmapFlags2)
                    #expect(accepted.flags2 & daxFmapFlags2 != 0)
                    try expectKernelSeesTheMountedBytes(kernel, served, rules: .posted)
                }
                #expect(log.messages.contains { $0.contains("FUSE_DAX_FMAP accepted") })
            }
        }
    }

    @Test("posted with a file on device 1: FUSE_DAX_FMAP is declined, with a log line")
    func postedDeclinesASecondDevice() throws {
        try withFilesWrittenThroughAMount(deviceCount: 2, sizes: [8 << 20], layout: { StripedLayout() }) { served in
            let log = CapturedLog()
            try withTestKernel(devices: served.devicePaths, profile: .fixed(.posted), log: log) { kernel in
                let accepted = try kernel.initialize(minor: 45, flags2: daxFmapFlags2)
                #expect(accepted.flags2 & daxFmapFlags2 == 0)
                // The daemon serves the data itself instead: a READ returns the file's bytes.
                let node = try #require(try kernel.lookup("file0.bin"))
                let read = try kernel.read(node, offset: 0, size: 4096)
                #expect(read.body == Array(served.contents["file0.bin"]!.prefix(4096)))
            }
            #expect(log.messages.contains { $0.contains("declining FUSE_DAX_FMAP") && $0.contains("strips[1].device: index 1 is out of range") })
        }
    }

    @Test("push: fmaps are unrolled into simple extents that resolve like the interleaved original")
    func pushUnrolls() throws {
        try withFilesWrittenThroughAMount(deviceCount: 2, sizes: Self.sizes, layout: { StripedLayout() }) { served in
            let log = CapturedLog()
            try withTestKernel(devices: served.devicePaths, profile: .fixed(.push), log: log) { kernel in
                let accepted = try kernel.initialize(minor: 45, flags2: daxFmapFlags2)
                #expect(accepted.flags2 & daxFmapFlags2 != 0)
                try expectKernelSeesTheMountedBytes(kernel, served, rules: .push, shortLast: true)
                for (name, original) in served.fmaps {
                    let node = try #require(try kernel.lookup(name))
                    let fmap = try KernelFmap(reply: try kernel.getFmap(node).body, rules: .push, lastExtentMayBeShort: true)
                    let resolver = FmapResolver(original)
                    for offset in stride(from: UInt64(0), to: original.fileSize, by: 1 << 19) {
                        let expected = try #require(resolver.resolve(offset))
                        let got = try #require(fmap.resolve(offset))
                        #expect(got.device == expected.device && got.offset == expected.deviceOffset)
                    }
                }
            }
        }
    }

    @Test("GET_DAXDEV replies are 280 bytes; unknown indices get an error")
    func daxdevReplies() throws {
        try withFilesWrittenThroughAMount(deviceCount: 1, sizes: [2 << 20], layout: { ContiguousLayout() }) { served in
            try withTestKernel(devices: served.devicePaths, profile: .fixed(.posted), log: CapturedLog()) { kernel in
                _ = try kernel.initialize(minor: 45, flags2: daxFmapFlags2)
                let reply = try kernel.getDaxdev(0)
                #expect(reply.error == 0 && reply.body.count == 280)
                let name = String(decoding: reply.body[24...].prefix { $0 != 0 }, as: UTF8.self)
                #expect(name == served.devicePaths[0])
                #expect(try kernel.getDaxdev(1).error < 0)
                #expect(try kernel.getDaxdev(UInt64.max).error < 0)
                // The server keeps answering after the refusals.
                #expect(try kernel.lookup("file0.bin") != nil)
            }
        }
    }

    @Test("GET_DAXDEV names each device as the policy's resolve_device says; .meta files carry their file types")
    func resolveDeviceNamesTheDevice() throws {
        let folder = "/dev/shm/famfs-alias-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try """
            function layout(file, devices)
              local chunk = 2097152
              return { ext_type = "simple", extents = { alloc(devices[1], (file.size + chunk - 1) // chunk * chunk, chunk) } }
            end
            function resolve_device(index)
              return config.alias .. index
            end
            """.write(toFile: "\(folder)/alias.lua", atomically: true, encoding: .utf8)
        try withFilesWrittenThroughAMount(deviceCount: 1, sizes: Self.sizes, layoutFor: { paths in
            try policyFactory("\(folder)/alias.lua", devices: paths)
        }) { served in
            // The kernel opens whatever path it is told: here a link to the device file.
            try FileManager.default.createSymbolicLink(atPath: "\(folder)/alias0", withDestinationPath: served.devicePaths[0])
            let policy = try policyFactory("\(folder)/alias.lua", devices: served.devicePaths, config: ["alias": "\(folder)/alias"])
            try withTestKernel(devices: served.devicePaths, profile: .fixed(.posted), log: CapturedLog(), makePolicy: policy) { kernel in
                _ = try kernel.initialize(minor: 45, flags2: daxFmapFlags2)
                #expect(try TestKernel.daxdevName(try kernel.getDaxdev(0)) == "\(folder)/alias0")
                try expectKernelSeesTheMountedBytes(kernel, served, rules: .posted)
                let meta = try #require(try kernel.lookup(".meta"))
                for (name, fileType) in [(".superblock", UInt8(1)), (".log", UInt8(2))] {
                    let node = try #require(try kernel.lookup(name, in: meta))
                    let fmap = try KernelFmap(reply: try kernel.getFmap(node).body, rules: .posted)
                    #expect(fmap.fileType == fileType, "\(name)")
                    #expect(try kernel.size(of: node) == fmap.fileSize, "\(name)")
                }
            }
        }
    }

    @Test("auto: bit 43 on FUSE 7.46 is not famfs")
    func autoIgnoresBit43OnNewerKernels() throws {
        try withFilesWrittenThroughAMount(deviceCount: 1, sizes: [2 << 20], layout: { ContiguousLayout() }) { served in
            let log = CapturedLog()
            try withTestKernel(devices: served.devicePaths, profile: .auto, log: log) { kernel in
                let accepted = try kernel.initialize(minor: 46, flags2: daxFmapFlags2)
                #expect(accepted.flags2 & daxFmapFlags2 == 0)
                #expect(try kernel.getFmap(try #require(try kernel.lookup("file0.bin"))).error < 0)
            }
            #expect(log.messages.contains { $0.contains("kernel profile none") && $0.contains("7.46") })
        }
    }

    @Test("auto on a famfs kernel picks posted when devices cannot be pushed")
    func autoPicksPosted() throws {
        try withFilesWrittenThroughAMount(deviceCount: 1, sizes: [2 << 20], layout: { ContiguousLayout() }) { served in
            let log = CapturedLog()
            try withTestKernel(devices: served.devicePaths, profile: .auto, log: log) { kernel in
                let accepted = try kernel.initialize(minor: 45, flags2: daxFmapFlags2)
                #expect(accepted.flags2 & daxFmapFlags2 != 0)
            }
            #expect(log.messages.contains { $0.contains("kernel profile posted") })
        }
    }
}
