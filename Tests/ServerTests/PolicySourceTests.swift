import Fmap
import Foundation
import LogCapture
import Policy
import Server
import Testing

@Suite("The policy the workers share")
struct PolicySourceTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("policy-source-\(UUID().uuidString)").path

    func write(_ text: String, to name: String) throws {
        try text.write(toFile: "\(folder)/\(name)", atomically: true, encoding: .utf8)
    }

    func makeSource() throws -> PolicySource {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try write("""
            local names = require("names")
            function layout(file, devices)
              return { ext_type = "simple", extents = { alloc(0, file.size, 2097152) } }
            end
            function resolve_device(index) return names.prefix .. index end
            """, to: "policy.lua")
        try write(#"return { prefix = "/dev/first" }"#, to: "names.lua")
        let devices = [DeviceFacts(index: 0, path: "/dev/dax0.0", size: 1 << 30, alignment: FmapLimits.mib2)]
        return try PolicySource(path: "\(folder)/policy.lua", devices: devices, logger: CapturedLog().logger)
    }

    @Test("a worker made after the files changed runs the policy and modules that were validated, not what the files say now")
    func workersRunTheValidatedScript() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let source = try makeSource()
        try write("function layout(file, devices) return {", to: "policy.lua")
        try write(#"return { prefix = "/dev/second" }"#, to: "names.lua")
        let worker = try source.makeWorker()
        #expect(try worker.resolveDevice(0, devicePath: "") == "/dev/first0")
    }

    @Test("a reload reads the policy and its modules again, and the workers take them up")
    func reloadReadsModulesAgain() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let source = try makeSource()
        let worker = try source.makeWorker()
        try write(#"return { prefix = "/dev/second" }"#, to: "names.lua")
        #expect(try worker.resolveDevice(1, devicePath: "") == "/dev/first1")
        #expect(source.reload())
        #expect(try worker.resolveDevice(1, devicePath: "") == "/dev/second1")

        try write("return {", to: "names.lua")
        #expect(!source.reload())
        #expect(try source.makeWorker().resolveDevice(2, devicePath: "") == "/dev/second2")
    }
}
