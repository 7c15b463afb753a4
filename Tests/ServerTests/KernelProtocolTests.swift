import Fmap
import Foundation
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
                    _ body: (TestKernel) throws -> Void) throws {
    let image = try FamfsImage.open(devices: devices.map { FilePath($0) }, access: .readWrite, host: try SystemUUID.current())
    var negotiation = InitNegotiation()
    negotiation.kernelProfile = profile
    let server = FuseServer(fileSystem: FileSystem(image: image, logger: log.logger), makePolicy: { ContiguousLayout() },
                            negotiation: negotiation, workerCount: 2, logger: log.logger)
    let kernel = try TestKernel(server: server)
    defer { kernel.close() }
    try body(kernel)
}

let daxFmapFlags2: UInt32 = 1 << (43 - 32)

@Suite("famfs kernel protocol through an in-test kernel", .serialized)
struct KernelProtocolTests {
    static let sizes = [1, 2 << 20, 5 << 20 + 17, 9 << 20]

    func expectKernelSeesTheMountedBytes(_ kernel: TestKernel, _ served: ServedFiles, rules: KernelFmap.Rules,
                                         shortLast: Bool = false) throws {
        for (name, bytes) in served.contents {
            let node = try #require(try kernel.lookup(name))
            #expect(try kernel.open(node) == 0)
            let reply = try kernel.getFmap(node)
            #expect(reply.error == 0, "GET_FMAP \(name)")
            let fmap = try KernelFmap(reply: reply.body, rules: rules, lastExtentMayBeShort: shortLast)
            #expect(fmap.fileSize == UInt64(bytes.count))
            #expect(try kernel.size(of: node) == fmap.fileSize, "GETATTR must agree with the fmap")
            for offset in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 37)) + [bytes.count - 1] {
                let location = try #require(fmap.resolve(UInt64(offset)))
                let onDevice = try readDevice(served.devicePaths[Int(location.device)], at: location.offset, count: 1)
                #expect(onDevice == [bytes[offset]], "\(name) offset \(offset)")
            }
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
                try withTestKernel(devices: served.devicePaths, profile: .fixed(.posted), log: log) { kernel in
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
