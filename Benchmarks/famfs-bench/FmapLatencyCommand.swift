import ArgumentParser
import Foundation
import Logging
import Metadata
import Policy
import Server
import SocketKernel
import SystemPackage

/// GET_FMAP round trips through the daemon's own server in this process, over a
/// SOCK_SEQPACKET socketpair with the posted famfs kernel profile (what a famfs kernel asks
/// at each open), against GETATTR round trips on the same connection as the floor.
struct FmapLatencyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fmap-latency",
        abstract: "GET_FMAP round-trip latency (median, p99) through an in-process server.")

    @OptionGroup var output: ResultsOptions

    @Option(name: .customLong("device"), help: ArgumentHelp("The devices of an unmounted famfs file system, primary first.", valueName: "path"))
    var devices: [String]

    @Option(help: ArgumentHelp("The policy the server loads (GET_FMAP itself does not run it).", valueName: "file"))
    var policy: String

    @Option(help: "Files f0, f1, ... in the root, written through a mount beforehand.")
    var files = 16

    @Option(help: "Round trips per measurement.")
    var requests = 20_000

    func run() throws {
        var logger = Logger(label: "famfs-bench")
        logger.logLevel = .warning
        let image = try FamfsImage.open(devices: devices.map { FilePath($0) }, access: .readWrite, host: try SystemUUID.current())
        let deviceFacts = image.devices.enumerated().map { index, device in
            DeviceFacts(index: UInt32(index), path: device.path.string, size: device.size, alignment: 2 << 20)
        }
        let source = try PolicySource(path: policy, devices: deviceFacts, logger: logger)
        var negotiation = InitNegotiation()
        negotiation.kernelProfile = .fixed(.posted)
        let server = FuseServer(fileSystem: FileSystem(image: image, logger: logger), makePolicy: { try source.makeWorker() },
                                negotiation: negotiation, logger: logger)
        let kernel = try SocketKernel(server: server)
        defer { kernel.close() }
        let daxFmap: UInt32 = 1 << (43 - 32)
        guard try kernel.initialize(minor: 45, flags2: daxFmap).flags2 & daxFmap != 0 else {
            throw ValidationError("the server declined FUSE_DAX_FMAP (posted famfs serves device 0 only: use one device)")
        }
        var nodes: [UInt64] = []
        for index in 0..<files {
            guard let node = try kernel.lookup("f\(index)") else { throw ValidationError("no file f\(index) in the root") }
            guard try kernel.open(node) == 0 else { throw ValidationError("OPEN of f\(index) failed") }
            nodes.append(node)
        }
        for (name, opcode, arguments) in [("getattr", SocketKernel.Opcode.getattr, SocketKernel.getattrArguments),
                                          ("get_fmap", .getFmap, [])] {
            var latencies: [Double] = []
            latencies.reserveCapacity(requests)
            for round in 0..<(requests + requests / 10) {
                let start = monotonicSeconds()
                let reply = try kernel.call(opcode, node: nodes[round % nodes.count], arguments)
                let elapsed = monotonicSeconds() - start
                guard reply.error == 0, !reply.body.isEmpty else { throw ValidationError("\(name) failed with \(reply.error)") }
                if round >= requests / 10 { latencies.append(elapsed) }
            }
            latencies.sort()
            try output.record("fmap.\(name).median", latencies[latencies.count / 2] * 1e6, "us")
            try output.record("fmap.\(name).p99", latencies[latencies.count * 99 / 100] * 1e6, "us")
        }
    }
}
