import ArgumentParser
import CSystemExtras
import Devices
import Fmap
import Foundation
import SystemPackage

/// The ceiling for serving a DAX file: one thread copying the file's bytes straight out of
/// the mapped device files, 1 MiB at a time, in file order (what a READ reply costs at
/// least: the same bytes, the same copy, no protocol).
struct MemoryLimitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory-limit",
        abstract: "Sequential single-threaded copy of a DAX file's bytes from the mapped devices.")

    @OptionGroup var output: ResultsOptions

    @Option(help: ArgumentHelp("A DAX file on a mounted famfs-policyd; its user.famfs.fmap xattr says where its bytes are.", valueName: "path"))
    var fmapOf: String

    @Option(name: .customLong("device"), help: ArgumentHelp("The devices, primary first.", valueName: "path"))
    var devices: [String]

    @Option(help: "Seconds to copy for (whole passes over the file; the first pass is not timed).")
    var seconds = 1.0

    func run() throws {
        let fmap = try JSONDecoder().decode(Fmap.self, from: Data(try extendedAttribute(fmapOf, "user.famfs.fmap")))
        let mapped = try devices.map { path throws -> MappedDevice in try MappedDevice(path: FilePath(path), access: .readOnly) }
        let resolver = FmapResolver(fmap)
        let chunk = 1 << 20
        var runs: [UnsafeRawBufferPointer] = []
        var position: UInt64 = 0
        while position < fmap.fileSize, let location = resolver.resolve(position) {
            let take = min(UInt64(chunk), location.contiguousBytes, fmap.fileSize - position)
            runs.append(try mapped[Int(location.device)].bytes(at: location.deviceOffset, count: Int(take)))
            position += take
        }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 4096)
        defer { buffer.deallocate() }
        func pass() { for run in runs { buffer.copyMemory(from: run.baseAddress!, byteCount: run.count) } }
        // The runs point into the mappings: keep the devices alive until the copying is done.
        let rate = withExtendedLifetime(mapped) {
            pass()
            var passes = 0
            let start = monotonicSeconds()
            repeat {
                pass()
                passes += 1
            } while monotonicSeconds() - start < seconds
            return Double(passes) * Double(fmap.fileSize) / (monotonicSeconds() - start)
        }
        try output.record("limit.read.seq.1m.1t", rate / 1e6, "MB/s")
    }
}

/// The value of extended attribute `name` of `path`.
func extendedAttribute(_ path: String, _ name: String) throws -> [UInt8] {
    var value = [UInt8](repeating: 0, count: 64 << 10)
    let count = value.withUnsafeMutableBytes { getxattr(path, name, $0.baseAddress, $0.count) }
    guard count >= 0 else { throw IOWorkload.Failure(description: "getxattr \(name) of \(path): \(String(cString: strerror(errno)))") }
    return Array(value.prefix(count))
}
