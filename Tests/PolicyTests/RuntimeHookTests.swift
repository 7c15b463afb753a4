import Allocation
import Fmap
import LogCapture
import Logging
import Policy
import Testing

@Suite struct RuntimeHookTests {
    @Test func layoutSeesFileAndDeviceFacts() throws {
        let fixture = try PolicyFixture(["policy.lua": """
            function layout(file, devices)
              assert(file.path == "/data/a" and file.size == 5 * 1048576, "file")
              assert(file.uid == 1000 and file.gid == 100 and file.mode == tonumber("100600", 8), "ids")
              assert(#devices == 4 and devices[2].index == 1 and devices[2].path == "/dev/dax1.0", "devices")
              assert(devices[2].size == 1 << 30 and devices[2].alignment == 2097152, "sizes")
              assert(devices[2].numa_node == 1, "numa")
              local before = devices[1].free
              local extent = alloc(devices[1], file.size)
              assert(devices[1].free == before - extent.length, "free follows alloc")
              return { ext_type = "simple", extents = { extent } }
            end
            """])
        let file = FileFacts(path: "/data/a", size: 5 << 20, uid: 1000, gid: 100, mode: 0o100600)
        let fmap = try fixture.runtime().layout(for: file, allocator: fixture.allocator())
        #expect(fmap == Fmap(fileSize: 5 << 20, extents: .simple([SimpleExtent(device: 0, offset: 0, length: 6 << 20)])))
    }

    @Test func freeSpaceIsRefreshedBetweenCalls() throws {
        let fixture = try PolicyFixture(["policy.lua": """
            function layout(file, devices)
              assert(devices[1].free == tonumber(file.path:sub(2)), "saw " .. devices[1].free)
              return { ext_type = "simple", extents = { alloc(0, file.size) } }
            end
            """])
        let runtime = try fixture.runtime()
        let allocator = fixture.allocator()
        _ = try runtime.layout(for: FileFacts(path: "/\(1 << 30)", size: 2 << 20), allocator: allocator)
        _ = try runtime.layout(for: FileFacts(path: "/\((1 << 30) - (2 << 20))", size: 2 << 20), allocator: allocator)
        let other = fixture.allocator()
        _ = try runtime.layout(for: FileFacts(path: "/\(1 << 30)", size: 2 << 20), allocator: other)
    }

    @Test func freeSpaceIsRestoredAfterAFailedCall() throws {
        let fixture = try PolicyFixture(["policy.lua": """
            function layout(file, devices)
              assert(devices[1].free == 1 << 30, "saw " .. devices[1].free)
              alloc(0, 1 << 20)
              if file.path == "/fail" then error("no") end
              return { ext_type = "simple", extents = { { dev = 0, offset = 0, length = 2097152 } } }
            end
            """])
        let runtime = try fixture.runtime()
        let allocator = fixture.allocator()
        #expect(throws: PolicyError.self) { try runtime.layout(for: FileFacts(path: "/fail", size: 1), allocator: allocator) }
        _ = try runtime.layout(for: FileFacts(path: "/ok", size: 1), allocator: allocator)
    }

    @Test func interleavedLayoutsBecomeInterleavedFmaps() throws {
        let fixture = try PolicyFixture(["policy.lua": """
            function layout(file, devices)
              local strips = {}
              for i = 1, 3 do strips[i] = alloc(devices[i], 4 * 1048576) end
              return { ext_type = "interleaved",
                       extents = { { nstrips = 3, chunk_size = 2097152, nbytes = 12 * 1048576, strips = strips } } }
            end
            """])
        let fmap = try fixture.runtime().layout(for: FileFacts(path: "/f", size: 11 << 20), allocator: fixture.allocator())
        let strips = (0..<3).map { SimpleExtent(device: UInt32($0), offset: 0, length: 4 << 20) }
        #expect(fmap.extents == .interleaved([InterleavedExtent(chunkSize: 2 << 20, byteCount: 12 << 20, strips: strips)]))
    }

    @Test func layoutCanAllocateStraightFromAnAllocationState() throws {
        let fixture = try PolicyFixture(["policy.lua": """
            function layout(file, devices)
              if file.path == "/fail" then alloc(1, file.size) error("no") end
              return { ext_type = "simple", extents = { alloc(1, file.size) } }
            end
            """])
        let runtime = try fixture.runtime()
        var state = AllocationState(devices: fixture.devices.map { DeviceSpace(size: $0.size) })
        let fmap = try runtime.layout(for: FileFacts(path: "/a", size: 4 << 20), allocation: &state)
        #expect(fmap.extents == .simple([SimpleExtent(device: 1, offset: 0, length: 4 << 20)]))
        #expect(state.devices[1].usedBytes == 4 << 20)
        #expect(throws: PolicyError.self) { try runtime.layout(for: FileFacts(path: "/fail", size: 4 << 20), allocation: &state) }
        #expect(state.devices[1].usedBytes == 4 << 20)
    }

    @Test func placementDecidesDaxOrPassthrough() throws {
        let fixture = try PolicyFixture(["policy.lua": """
            function layout(file, devices) return { ext_type = "simple", extents = { alloc(0, 1) } } end
            function placement(file)
              if file.path:match("%.log$") then return "passthrough", "backing" .. file.path end
              if file.path:match("%.abs$") then return "passthrough", "/etc" .. file.path end
              if file.path:match("%.up$") then return "passthrough", "../outside" .. file.path end
              if file.path:match("%.nul$") then return "passthrough", "..\0/escaped" end
              return "dax"
            end
            """])
        let runtime = try fixture.runtime()
        #expect(try runtime.placement(for: FileFacts(path: "/a.log", size: 1)) == .passthrough(backingPath: "backing/a.log"))
        #expect(try runtime.placement(for: FileFacts(path: "/a.bin", size: 1)) == .dax)
        #expect {
            try runtime.placement(for: FileFacts(path: "/x.abs", size: 1))
        } throws: { error in
            (error as? PolicyError)?.description == #"policy.lua:2: placement: backing_path: "/etc/x.abs" is absolute; it must be relative to the daemon's --staging directory"#
        }
        #expect {
            try runtime.placement(for: FileFacts(path: "/x.up", size: 1))
        } throws: { error in
            (error as? PolicyError)?.description.contains(#""../outside/x.up" has an empty, '.' or '..' component"#) == true
        }
        // The system would end the name at the NUL, making the first component "..".
        #expect {
            try runtime.placement(for: FileFacts(path: "/x.nul", size: 1))
        } throws: { error in
            (error as? PolicyError)?.description == #"policy.lua:2: placement: backing_path: "..\0/escaped" contains a NUL byte"#
        }
    }

    @Test func placementReturnsAreChecked() throws {
        let fixture = try PolicyFixture(["policy.lua": """
            function layout(file, devices) return { ext_type = "simple", extents = { alloc(0, 1) } } end
            function placement(file)
              if file.path == "/nopath" then return "passthrough" end
              return 7
            end
            """])
        let runtime = try fixture.runtime()
        #expect { _ = try runtime.placement(for: FileFacts(path: "/nopath", size: 1)) } throws: {
            ($0 as? PolicyError)?.description == "policy.lua:2: placement: placement \"passthrough\" needs a backing path as second result, got nil"
        }
        #expect { _ = try runtime.placement(for: FileFacts(path: "/x", size: 1)) } throws: {
            let error = $0 as? PolicyError
            return error?.kind == .badReturn && error?.description.contains("got number") == true
        }
    }

    @Test func onReleaseDecidesTheCommit() throws {
        let fixture = try PolicyFixture(["policy.lua": """
            function layout(file, devices) return { ext_type = "simple", extents = { alloc(0, 1) } } end
            function on_release(file)
              if file.path == "/weird" then return "yes" end
              return file.size > 0
            end
            """])
        let runtime = try fixture.runtime()
        #expect(try runtime.shouldCommitOnRelease(FileFacts(path: "/a", size: 1)))
        #expect(try !runtime.shouldCommitOnRelease(FileFacts(path: "/a", size: 0)))
        #expect { _ = try runtime.shouldCommitOnRelease(FileFacts(path: "/weird", size: 0)) } throws: {
            ($0 as? PolicyError)?.description == "policy.lua:2: on_release: on_release must return a boolean, got string"
        }
    }

    @Test func resolveDeviceMapsIndicesToPaths() throws {
        let fixture = try PolicyFixture(["policy.lua": """
            function layout(file, devices) return { ext_type = "simple", extents = { alloc(0, 1) } } end
            function resolve_device(index, devices)
              if index == 3 then return nil end
              if index == 0 then return "/dev/dax0.0\0junk" end
              if index == 2 then return "dax2.0" end
              return "/dev/by-policy/" .. devices[index + 1].path:match("dax.*")
            end
            """])
        let runtime = try fixture.runtime()
        #expect(try runtime.resolveDevice(1) == "/dev/by-policy/dax1.0")
        #expect { _ = try runtime.resolveDevice(3) } throws: {
            ($0 as? PolicyError)?.kind == .badReturn
        }
        #expect { _ = try runtime.resolveDevice(0) } throws: {
            ($0 as? PolicyError)?.description == #"policy.lua:2: resolve_device: resolve_device returned "/dev/dax0.0\0junk", which contains a NUL byte"#
        }
        #expect { _ = try runtime.resolveDevice(2) } throws: {
            ($0 as? PolicyError)?.description == #"policy.lua:2: resolve_device: resolve_device returned "dax2.0", which is not an absolute path"#
        }
    }

    @Test func optionalHooksHaveDefaults() throws {
        let fixture = try PolicyFixture(["policy.lua": """
            function layout(file, devices) return { ext_type = "simple", extents = { alloc(0, 1) } } end
            """])
        let runtime = try fixture.runtime()
        #expect(runtime.defines(.layout) && !runtime.defines(.placement))
        #expect(try runtime.placement(for: FileFacts(path: "/a", size: 1)) == .dax)
        #expect(try !runtime.shouldCommitOnRelease(FileFacts(path: "/a", size: 1)))
        #expect(try runtime.resolveDevice(2) == "/dev/dax2.0")
    }

    @Test func configReachesTheScript() throws {
        let fixture = try PolicyFixture(["policy.lua": """
            assert(config.width == "8" and config.mode == "fast")
            function layout(file, devices) return { ext_type = "simple", extents = { alloc(0, 1) } } end
            """])
        _ = try fixture.runtime(config: ["width": "8", "mode": "fast"])
    }

    @Test func scriptsLogThroughTheHostLogger() throws {
        let fixture = try PolicyFixture(["policy.lua": """
            log.info("loaded", 1, true)
            log.warn("careful")
            print("printed")
            function layout(file, devices) return { ext_type = "simple", extents = { alloc(0, 1) } } end
            """])
        let log = CapturedLog(level: .debug)
        _ = try fixture.runtime(log: log)
        #expect(log.messages == ["info: loaded 1 true", "warning: careful", "info: printed"])
    }

    @Test func aMisspeltHookIsWarnedAboutAtLoad() throws {
        let fixture = try PolicyFixture(["policy.lua": """
            function layout(file, devices) return { ext_type = "simple", extents = { alloc(0, 1) } } end
            function on_relase(file) return true end
            function Placement(file) return "dax" end
            function pick_devices(devices) return devices end
            function relayout(file) return file end
            """])
        let log = CapturedLog(level: .debug)
        let script = try PolicyScript(path: fixture.folder + "/policy.lua")
        let runtime = try PolicyRuntime(script: script, devices: fixture.devices, logger: log.logger)
        #expect(!runtime.defines(.onRelease) && !runtime.defines(.placement))
        let warnings: Set = [
            "warning: the policy defines on_relase, which is not a hook and is never called: did you mean on_release?",
            "warning: the policy defines Placement, which is not a hook and is never called: did you mean placement?",
        ]
        #expect(Set(log.messages) == warnings)
        // Each worker loads the same script: it is said once, not once per state.
        _ = try PolicyRuntime(script: script, devices: fixture.devices, logger: log.logger)
        #expect(log.messages.count == warnings.count)
    }

    @Test func stateKeepsWorkingAcrossManyCalls() throws {
        let fixture = try PolicyFixture(["policy.lua": """
            function layout(file, devices)
              local n = tonumber(file.path:sub(2))
              if n % 3 == 0 then error("every third") end
              return { ext_type = "simple", extents = { alloc(n % 4, file.size) } }
            end
            """])
        let runtime = try fixture.runtime()
        let allocator = fixture.allocator()
        var failures = 0
        for size in 1...300 {
            do { _ = try runtime.layout(for: FileFacts(path: "/\(size)", size: 1 << 20), allocator: allocator) }
            catch { failures += 1 }
        }
        #expect(failures == 100)
        #expect(runtime.memoryInUse < 1 << 20)
    }
}

@Suite struct LoadTests {
    @Test func syntaxErrorsNameFileAndLine() throws {
        let fixture = try PolicyFixture(["policy.lua": "function layout(file, devices)\n  return {\nend\n"])
        #expect { _ = try fixture.runtime() } throws: {
            let error = $0 as? PolicyError
            return error?.kind == .syntax && error?.description.hasPrefix("policy.lua:3: load: unexpected symbol near 'end'") == true
        }
    }

    @Test func aPolicyWithoutLayoutIsRefused() throws {
        let fixture = try PolicyFixture(["policy.lua": "function placement(file) return \"dax\" end\n"])
        #expect { _ = try fixture.runtime() } throws: {
            let error = $0 as? PolicyError
            return error?.kind == .missingHook && error?.description == "policy.lua: load: the policy defines no layout(file, devices) function"
        }
    }

    @Test func hooksMustBeFunctions() throws {
        let fixture = try PolicyFixture(["policy.lua": "layout = 5\n"])
        #expect { _ = try fixture.runtime() } throws: {
            ($0 as? PolicyError)?.description == "policy.lua: load: layout: hook must be a function, got number"
        }
    }

    @Test func aMissingFileIsUnreadable() throws {
        let fixture = try PolicyFixture([:])
        #expect { _ = try fixture.runtime("absent.lua") } throws: {
            ($0 as? PolicyError)?.kind == .unreadable
        }
    }

    @Test func topLevelErrorsFailTheLoad() throws {
        let fixture = try PolicyFixture(["policy.lua": "local x = 1\nerror('bad config')\n"])
        #expect { _ = try fixture.runtime() } throws: {
            ($0 as? PolicyError)?.description == "policy.lua:2: load: bad config"
        }
    }
}
