import Fmap
import Foundation
import Policy
import PolicyEval
import Testing

@Suite struct EvalReportTests {
    @Test func jsonHasTheContractShape() throws {
        let input = EvalInput(devices: evalDevices(2, size: 1 << 30),
                              files: [.init(path: "/a", size: 3 << 20), .init(path: "/b", size: 1 << 20, mode: 0o600)])
        let report = PolicyEvaluator.evaluate(policyPath: policiesFolder + "/contiguous.lua", input: input)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
        #expect(object["valid"] as? Bool == true)
        let devices = try #require(object["devices"] as? [[String: Any]])
        #expect(devices.count == 2)
        #expect(Set(devices[0].keys) == ["index", "path", "size", "used", "kernel_path", "error"])
        #expect(devices[0]["used"] as? Int == 6 << 20)
        #expect(devices[1]["kernel_path"] as? String == "/dev/dax1.0", "without resolve_device the kernel is told the path")
        #expect(devices[0]["error"] is NSNull)
        let files = try #require(object["files"] as? [[String: Any]])
        #expect(Set(files[0].keys) == ["path", "size", "mode", "placement", "fmap", "error"])
        #expect(files[0]["error"] is NSNull)
        #expect(files[1]["mode"] as? Int == 0o100600)
        let fmap = try #require(files[0]["fmap"] as? [String: Any])
        #expect(fmap["ext_type"] as? String == "simple")
        #expect(fmap["file_size"] as? Int == 3 << 20)
        let extents = try #require(fmap["extents"] as? [[String: Any]])
        #expect(extents.count == 1)
        // Device 0 keeps its superblock and the default 8 MiB log first, as the daemon does.
        #expect(extents[0]["dev"] as? Int == 0 && extents[0]["offset"] as? Int == 10 << 20 && extents[0]["length"] as? Int == 4 << 20)
    }

    @Test func interleavedExtentsUseTheContractKeys() throws {
        let input = EvalInput(devices: evalDevices(4, size: 1 << 30), files: [.init(path: "/a", size: 7 << 20)])
        let report = PolicyEvaluator.evaluate(policyPath: policiesFolder + "/stripe.lua", input: input)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
        let file = try #require((object["files"] as? [[String: Any]])?.first)
        let extent = try #require(((file["fmap"] as? [String: Any])?["extents"] as? [[String: Any]])?.first)
        #expect(Set(extent.keys) == ["nstrips", "chunk_size", "nbytes", "strips"])
        #expect(extent["nstrips"] as? Int == 4)
        let strips = try #require(extent["strips"] as? [[String: Any]])
        #expect(Set(strips[0].keys) == ["dev", "offset", "length"])
    }

    @Test func failedFilesCarryTheirErrorAndMakeTheReportInvalid() throws {
        let policy = try writePolicy("""
            function layout(file, devices)
              if file.path == "/bad" then error("refused") end
              return { ext_type = "simple", extents = { alloc(0, file.size) } }
            end
            """)
        let input = EvalInput(devices: evalDevices(1, size: 1 << 30),
                              files: [.init(path: "/bad", size: 1), .init(path: "/good", size: 1)])
        let report = PolicyEvaluator.evaluate(policyPath: policy, input: input)
        #expect(!report.valid)
        #expect(report.files[0].error == "policy.lua:2: layout: refused")
        #expect(report.files[0].fmap == nil)
        #expect(report.files[1].error == nil)
        #expect(report.text(policy: policy).contains("/bad 1: ERROR policy.lua:2: layout: refused"))
        #expect(report.text(policy: policy).contains("invalid: 1 of 2 files failed"))
        let one = PolicyEvaluator.evaluate(policyPath: policy, input: EvalInput(devices: input.devices, files: [input.files[1]]))
        #expect(one.text(policy: policy).hasSuffix("valid: every file got a valid placement (1 file)"))
    }

    @Test func resolveDeviceNamesEachDeviceToTheKernel() throws {
        let policy = try writePolicy("""
            function layout(file, devices) return { ext_type = "simple", extents = { alloc(0, file.size) } } end
            function resolve_device(index, devices) return "/dev/famfs-shared" .. index end
            """)
        let input = EvalInput(devices: evalDevices(2, size: 1 << 30), files: [.init(path: "/a", size: 1)])
        let report = PolicyEvaluator.evaluate(policyPath: policy, input: input)
        #expect(report.valid)
        #expect(report.devices.map(\.kernelPath) == ["/dev/famfs-shared0", "/dev/famfs-shared1"])
        #expect(report.text(policy: policy).contains("1 /dev/dax1.0: 0 of 1G used (0.0%), kernel path /dev/famfs-shared1"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
        let devices = try #require(object["devices"] as? [[String: Any]])
        #expect(devices[0]["kernel_path"] as? String == "/dev/famfs-shared0")
    }

    @Test func aFailingResolveDeviceMakesTheReportInvalidAndNamesTheLine() throws {
        let policy = try writePolicy("""
            function layout(file, devices) return { ext_type = "simple", extents = { alloc(0, file.size) } } end
            function resolve_device(index, devices)
              if index == 1 then error("no name for device " .. index) end
              return devices[index + 1].path
            end
            """)
        let input = EvalInput(devices: evalDevices(2, size: 1 << 30), files: [.init(path: "/a", size: 1)])
        let report = PolicyEvaluator.evaluate(policyPath: policy, input: input)
        #expect(!report.valid)
        #expect(report.files[0].error == nil)
        #expect(report.devices[0].kernelPath == "/dev/dax0.0" && report.devices[0].error == nil)
        #expect(report.devices[1].kernelPath == nil)
        #expect(report.devices[1].error == "policy.lua:3: resolve_device: no name for device 1")
        let text = report.text(policy: policy)
        #expect(text.contains("1 /dev/dax1.0: 0 of 1G used (0.0%), ERROR policy.lua:3: resolve_device: no name for device 1"))
        #expect(text.hasSuffix("invalid: resolve_device failed for 1 of 2 devices"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
        #expect(object["valid"] as? Bool == false)
        let devices = try #require(object["devices"] as? [[String: Any]])
        #expect(devices[1]["kernel_path"] is NSNull)
        #expect(devices[1]["error"] as? String == "policy.lua:3: resolve_device: no name for device 1")
    }

    @Test func resolveDeviceMustReturnAPath() throws {
        let policy = try writePolicy("""
            function layout(file, devices) return { ext_type = "simple", extents = { alloc(0, file.size) } } end
            function resolve_device(index) return 7 end
            """)
        let report = PolicyEvaluator.evaluate(policyPath: policy, input: EvalInput(devices: evalDevices(1, size: 1 << 30)))
        #expect(!report.valid)
        #expect(report.devices[0].error?.hasPrefix("policy.lua:2: resolve_device: resolve_device must return a device path") == true,
                "\(report.devices[0].error ?? "no error")")
    }

    @Test func aDevicePathTooLongForTheKernelIsAResolveDeviceError() throws {
        let policy = try writePolicy("""
            function layout(file, devices) return { ext_type = "simple", extents = { alloc(0, file.size) } } end
            function resolve_device(index) return "/dev/" .. string.rep("d", 250 + index) end
            """)
        let report = PolicyEvaluator.evaluate(policyPath: policy, input: EvalInput(devices: evalDevices(2, size: 1 << 30)))
        #expect(!report.valid)
        #expect(report.devices[0].kernelPath?.utf8.count == 255)
        #expect(report.devices[1].error == "policy.lua:2: resolve_device: resolve_device returned a path of 256 bytes; the kernel takes at most 255")
    }

    @Test func likeTheDaemonEvalLaysOutNoEmptyFileAndCommitsNone() throws {
        let policy = try writePolicy("""
            function placement(file) if file.path:find("^/staged") then return "passthrough", "s" .. file.path end return "dax" end
            function on_release(file) return true end
            function layout(file, devices) return { ext_type = "simple", extents = { alloc(0, file.size) } } end
            """)
        let input = EvalInput(devices: evalDevices(1, size: 1 << 30),
                              files: [.init(path: "/empty", size: 0), .init(path: "/staged-empty", size: 0), .init(path: "/a", size: 1)])
        let report = PolicyEvaluator.evaluate(policyPath: policy, input: input)
        #expect(report.valid, "alloc would refuse 0 bytes, but layout is not called for an empty file")
        #expect(report.files.map(\.placement) == [.dax, .passthrough, .dax])
        #expect(report.files.map { $0.fmap == nil } == [true, true, false])
        let text = report.text(policy: policy)
        #expect(text.contains("/empty 0: dax, empty: no memory until its first size"), "\(text)")
        #expect(text.contains("/staged-empty 0: passthrough s/staged-empty"), "\(text)")
    }

    @Test func pathsTheDaemonRefusesAreThatFilesError() throws {
        let policy = try writePolicy("""
            function placement(file) if file.path:find("^/staged") then return "passthrough", "s" .. file.path end return "dax" end
            function layout(file, devices) return { ext_type = "simple", extents = { alloc(0, file.size) } } end
            """)
        let long = "/" + String(repeating: "x", count: 80)
        let paths = ["/a/../b", "a/b", long, "/staged" + long, "/ok", "/ok", "/staged/../" + long]
        let input = EvalInput(devices: evalDevices(1, size: 1 << 30), files: paths.map { .init(path: $0, size: 1) })
        let report = PolicyEvaluator.evaluate(policyPath: policy, input: input)
        #expect(!report.valid)
        let errors = report.files.map(\.error)
        #expect(errors[0] == "relative path 'a/../b' has an empty, '.' or '..' component (the daemon refuses such a path)")
        #expect(errors[1] == "a/b does not start with '/'; give the file's path in the mount, e.g. /a/b")
        #expect(errors[2]?.hasSuffix("is 80 bytes; famfs's log holds at most 79: the daemon refuses it as a DAX file (ENAMETOOLONG)") == true)
        #expect(errors[3] == nil && report.files[3].placement == .passthrough, "a passthrough file's path is not logged")
        #expect(errors[4] == nil)
        #expect(errors[5] == "/ok is listed twice; a path names one file")
        #expect(errors[6]?.hasSuffix("has an empty, '.' or '..' component (the daemon refuses such a path)") == true,
                "a long path is refused for its '..' too: \(errors[6] ?? "nil")")
    }

    @Test func withoutAReserveDevicesKeepWhatTheDaemonKeepsAndAReserveReplacesIt() throws {
        let files: [EvalInput.File] = [.init(path: "/a", size: 4 << 20)]
        let daemonLike = PolicyEvaluator.evaluate(policyPath: policiesFolder + "/stripe.lua",
                                                  input: EvalInput(devices: evalDevices(3, size: 1 << 30), files: files))
        #expect(daemonLike.files[0].fmap?.claimedRanges.map(\.offset) == [10 << 20, 2 << 20])
        #expect(daemonLike.reservedBytes == [10 << 20, 2 << 20, 2 << 20])
        let svg = EvalPicture.svg(daemonLike, policy: "stripe.lua")
        #expect(svg.contains(#"data-device="0" data-offset="0" data-length="10485760""#), "\(svg)")
        let reserved = PolicyEvaluator.evaluate(policyPath: policiesFolder + "/stripe.lua",
                                                input: EvalInput(devices: evalDevices(3, size: 1 << 30), files: files, reservedBytes: 0))
        #expect(reserved.files[0].fmap?.claimedRanges.map(\.offset) == [0, 0])
    }

    @Test func twoDevicesResolvingToOneKernelPathMakeTheReportInvalid() throws {
        let policy = try writePolicy("""
            function layout(file, devices) return { ext_type = "simple", extents = { alloc(0, file.size) } } end
            function resolve_device(index) return index == 2 and "/dev/dax2.0" or "/dev/dax0.0" end
            """)
        let report = PolicyEvaluator.evaluate(policyPath: policy, input: EvalInput(devices: evalDevices(3, size: 1 << 30),
                                                                                    files: [.init(path: "/a", size: 1)]))
        #expect(!report.valid)
        #expect(report.devices.map(\.kernelPath) == ["/dev/dax0.0", nil, "/dev/dax2.0"])
        #expect(report.devices[1].error
                == "policy.lua: resolve_device: device 1 resolves to /dev/dax0.0, as device 0 does; the kernel would map both from one device")
    }

    @Test func withoutResolveDeviceADevicePathTooLongForTheKernelIsThatDevicesError() throws {
        let policy = try writePolicy("""
            function layout(file, devices) return { ext_type = "simple", extents = { alloc(0, file.size) } } end
            """)
        let long = "/dev/shm/" + String(repeating: "d", count: 247)
        let devices: [EvalInput.Device] = [.init(path: "/dev/dax0.0", size: 1 << 30), .init(path: long, size: 1 << 30)]
        let report = PolicyEvaluator.evaluate(policyPath: policy, input: EvalInput(devices: devices, files: [.init(path: "/a", size: 1)]))
        #expect(!report.valid)
        #expect(report.files[0].error == nil)
        #expect(report.devices[0].kernelPath == "/dev/dax0.0" && report.devices[0].error == nil)
        #expect(report.devices[1].kernelPath == nil)
        #expect(report.devices[1].error == "policy.lua: resolve_device: device 1's path is 256 bytes; the kernel takes at most 255 "
                + "(define resolve_device to name a shorter path)")
    }

    @Test func thePolicySeesEachDevicesNumaNode() throws {
        let policy = try writePolicy("""
            function layout(file, devices)
              for _, device in ipairs(devices) do
                if device.numa_node == tonumber(file.path:match("node(%d+)")) then
                  return { ext_type = "simple", extents = { alloc(device, file.size) } }
                end
              end
              error("no device on the file's node; nodes: " .. tostring(devices[1].numa_node) .. " " .. tostring(devices[3].numa_node))
            end
            """)
        let devices: [EvalInput.Device] = [.init(path: "/dev/dax0.0", size: 1 << 30, numaNode: 0),
                                           .init(path: "/dev/dax1.0", size: 1 << 30, numaNode: 1),
                                           .init(path: "/dev/shm/dev0", size: 1 << 30)]
        let input = EvalInput(devices: devices, files: [.init(path: "/node1", size: 1), .init(path: "/node0", size: 1),
                                                        .init(path: "/node7", size: 1)])
        let report = PolicyEvaluator.evaluate(policyPath: policy, input: input)
        #expect(report.files.map { $0.fmap.flatMap(Self.firstDevice) } == [1, 0, nil])
        #expect(report.files[2].error?.hasSuffix("nodes: 0 nil") == true, "a device without a node has numa_node nil: \(report.files[2].error ?? "")")
    }

    private static func firstDevice(of fmap: Fmap) -> UInt32? {
        if case .simple(let extents) = fmap.extents { return extents.first?.device }
        return nil
    }

    @Test func aPolicyThatDoesNotLoadFailsEveryFile() throws {
        let policy = try writePolicy("function layout(\n")
        let input = EvalInput(devices: evalDevices(1, size: 1 << 30), files: [.init(path: "/a", size: 1)])
        let report = PolicyEvaluator.evaluate(policyPath: policy, input: input)
        #expect(!report.valid)
        #expect(report.loadError?.hasPrefix("policy.lua:2: load:") == true)
        #expect(report.files[0].error == report.loadError)
    }

    @Test func textReportShowsDecisionsUsageAndBalance() throws {
        let input = EvalInput(devices: evalDevices(2, size: 1 << 30),
                              files: [.init(path: "/data/a", size: 8 << 20), .init(path: "/scratch/x", size: 8 << 20)])
        let report = PolicyEvaluator.evaluate(policyPath: policiesFolder + "/mixed.lua", input: input)
        let text = report.text(policy: "mixed.lua")
        #expect(text.contains("/data/a 8M: committed interleaved 2x2M [0:0xa00000+4M 1:0x200000+4M]"), "\(text)")
        #expect(text.contains("/scratch/x 8M: passthrough scratch/x"))
        #expect(text.contains("0 /dev/dax0.0: 4M of 1G used (0.4%)"))
        #expect(text.contains("balance: most and least used devices differ by 0"))
        #expect(text.hasSuffix("valid: every file got a valid placement (2 files)"))
    }

    @Test func stagedFilesAreCommittedOnReleaseAndEmptyOnesStayStaged() throws {
        let input = EvalInput(devices: evalDevices(2, size: 1 << 30),
                              files: [.init(path: "/a", size: 3 << 20), .init(path: "/empty", size: 0)],
                              config: ["stage_prefix": "stage"])
        let report = PolicyEvaluator.evaluate(policyPath: policiesFolder + "/stage_then_commit.lua", input: input)
        #expect(report.valid)
        #expect(report.files.map(\.placement) == [.committed, .passthrough])
        #expect(report.files.map(\.backingPath) == ["stage/a", "stage/empty"])
        #expect(report.files[0].fmap != nil && report.files[1].fmap == nil)
        #expect(report.json().contains(#""placement":"committed""#))
    }

    @Test func reservedBytesAreNeverAllocated() throws {
        let input = EvalInput(devices: evalDevices(1, size: 1 << 30), files: [.init(path: "/a", size: 1)], reservedBytes: 8 << 20)
        let report = PolicyEvaluator.evaluate(policyPath: policiesFolder + "/contiguous.lua", input: input)
        guard case .simple(let extents) = report.files[0].fmap?.extents else {
            Issue.record("no simple fmap")
            return
        }
        #expect(extents[0].offset == 8 << 20)
    }
}
