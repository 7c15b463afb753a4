import Allocation
import Fmap
import Foundation
import LogCapture
import Logging
import Policy
import Testing

/// A policy folder made for one test, with the devices and allocator a runtime needs.
struct PolicyFixture {
    let folder: String
    let devices: [DeviceFacts]

    /// Writes `files` (relative path → text) into a fresh folder.
    init(_ files: [String: String], deviceCount: Int = 4, deviceSize: UInt64 = 1 << 30) throws {
        folder = NSTemporaryDirectory() + "policy-test-" + UUID().uuidString
        for (path, text) in files {
            let url = URL(fileURLWithPath: folder + "/" + path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        devices = (0..<deviceCount).map {
            DeviceFacts(index: UInt32($0), path: "/dev/dax\($0).0", size: deviceSize, alignment: FmapLimits.mib2,
                        numaNode: $0 % 2)
        }
    }

    /// A fresh allocator over the fixture's devices, nothing reserved.
    func allocator() -> AllocationStateAllocator {
        AllocationStateAllocator(state: AllocationState(devices: devices.map { DeviceSpace(size: $0.size) }))
    }

    func runtime(_ file: String = "policy.lua", config: [String: String] = [:],
                 limits: PolicyLimits = PolicyLimits(), log: CapturedLog? = nil) throws(PolicyError) -> PolicyRuntime {
        try PolicyRuntime(policyPath: folder + "/" + file, devices: devices, config: config, limits: limits,
                          logger: log?.logger ?? Logger(label: "famfs.policy"))
    }

    /// The 1-based line of `file` holding `marker`.
    func line(of marker: String, in file: String = "policy.lua") throws -> Int {
        let text = try String(contentsOfFile: folder + "/" + file, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return try #require(lines.firstIndex { $0.contains(marker) }) + 1
    }
}

/// A policy whose layout misbehaves (runs `hostile`) only for the file `/hostile` and
/// otherwise returns one 2 MiB extent on device 0.
func hostilePolicy(_ hostile: String, prelude: String = "") -> String {
    """
    \(prelude)
    function layout(file, devices)
      if file.path == "/hostile" then
    \(hostile)
      end
      return { ext_type = "simple", extents = { alloc(0, 2097152) } }
    end
    """
}

/// Runs `hostile` through layout and checks the failure, that nothing stayed allocated,
/// and that the next call works. Returns the error for further checks.
@discardableResult
func expectHostileLayout(_ hostile: String, prelude: String = "", kind: PolicyError.Kind, contains text: String,
                         lineMarker: String? = nil, limits: PolicyLimits = PolicyLimits(),
                         sourceLocation: SourceLocation = #_sourceLocation) throws -> PolicyError? {
    let fixture = try PolicyFixture(["policy.lua": hostilePolicy(hostile, prelude: prelude)])
    let runtime = try fixture.runtime(limits: limits)
    let allocator = fixture.allocator()
    let freeBefore = (0..<4).map { allocator.freeBytes(device: UInt32($0)) }
    var caught: PolicyError?
    do {
        _ = try runtime.layout(for: FileFacts(path: "/hostile", size: 1 << 20), allocator: allocator)
        Issue.record("layout of /hostile succeeded", sourceLocation: sourceLocation)
    } catch {
        caught = error
        #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
        #expect(error.description.contains(text), "\(error)", sourceLocation: sourceLocation)
        #expect(error.file == "policy.lua", "\(error)", sourceLocation: sourceLocation)
        if let lineMarker {
            #expect(error.line == (try fixture.line(of: lineMarker)), "\(error)", sourceLocation: sourceLocation)
            #expect(error.description.hasPrefix("policy.lua:\(try fixture.line(of: lineMarker)): layout: "), "\(error)",
                    sourceLocation: sourceLocation)
        } else {
            #expect(error.line != nil, "\(error)", sourceLocation: sourceLocation)
        }
    }
    #expect((0..<4).map { allocator.freeBytes(device: UInt32($0)) } == freeBefore, "allocations leaked",
            sourceLocation: sourceLocation)
    let fmap = try runtime.layout(for: FileFacts(path: "/good", size: 1 << 20), allocator: allocator)
    #expect(fmap.extents == .simple([SimpleExtent(device: 0, offset: 0, length: 2 << 20)]), sourceLocation: sourceLocation)
    return caught
}
