import Foundation
import Policy
import Testing

/// The dangerous parts of Lua are absent, not hidden: each attempt fails its call with
/// the line, and the next call works.
@Suite struct SandboxTests {
    @Test func ioIsAbsent() throws {
        try expectHostileLayout("    io.open(\"/etc/passwd\") --here", kind: .runtime,
                                contains: "attempt to index a nil value (global 'io')", lineMarker: "--here")
    }

    @Test func osExecuteIsAbsent() throws {
        try expectHostileLayout("    os.execute(\"touch /tmp/pwned\") --here", kind: .runtime,
                                contains: "attempt to call a nil value (field 'execute')", lineMarker: "--here")
    }

    @Test func osKeepsOnlyTimeAndClock() throws {
        try expectHostileLayout("    os.getenv(\"HOME\") --here", kind: .runtime,
                                contains: "attempt to call a nil value (field 'getenv')", lineMarker: "--here")
        let fixture = try PolicyFixture(["policy.lua": """
            assert(math.type(os.time()) == "integer" and type(os.clock()) == "number")
            function layout(file, devices) return { ext_type = "simple", extents = { alloc(0, 1) } } end
            """])
        _ = try fixture.runtime()
    }

    @Test func debugIsAbsent() throws {
        try expectHostileLayout("    debug.sethook() --here", kind: .runtime,
                                contains: "attempt to index a nil value (global 'debug')", lineMarker: "--here")
    }

    @Test func packageAndLoadlibAreAbsent() throws {
        try expectHostileLayout("    package.loadlib(\"libc.so.6\", \"system\") --here", kind: .runtime,
                                contains: "attempt to index a nil value (global 'package')", lineMarker: "--here")
    }

    @Test func dofileAndLoadfileAreAbsent() throws {
        try expectHostileLayout("    dofile(\"/etc/passwd\") --here", kind: .runtime,
                                contains: "attempt to call a nil value (global 'dofile')", lineMarker: "--here")
        try expectHostileLayout("    loadfile(\"/etc/passwd\") --here", kind: .runtime,
                                contains: "attempt to call a nil value (global 'loadfile')", lineMarker: "--here")
    }

    @Test func bytecodeCannotBeLoaded() throws {
        try expectHostileLayout("    load(\"\\27Lua\\84\\0\") --here", kind: .runtime,
                                contains: "load: binary chunks are not allowed in policies", lineMarker: "--here")
    }

    @Test func binaryModeIsIgnoredForReaderFunctions() throws {
        let hostile = """
            local sent = false
            local f, message = load(function() if sent then return nil end sent = true return "\\27Lua" end, "x", "b")
            error(message) --here
        """
        try expectHostileLayout(hostile, kind: .runtime, contains: "attempt to load a binary chunk (mode is 't')",
                                lineMarker: "--here")
    }

    @Test func stringDumpIsAbsent() throws {
        try expectHostileLayout("    string.dump(layout) --here", kind: .runtime,
                                contains: "attempt to call a nil value (field 'dump')", lineMarker: "--here")
    }

    @Test func textLoadStillWorksInsideTheSandbox() throws {
        let fixture = try PolicyFixture(["policy.lua": """
            local chunk = assert(load("return 1 + 1"))
            assert(chunk() == 2)
            assert(load("return io")() == nil)
            function layout(file, devices) return { ext_type = "simple", extents = { alloc(0, 1) } } end
            """])
        _ = try fixture.runtime()
    }

    @Test func requireRefusesParentFolders() throws {
        try expectHostileLayout("    require(\"../secret\") --here", kind: .runtime,
                                contains: "require: module '../secret': '..' is not allowed", lineMarker: "--here")
    }

    @Test func requireRefusesAbsoluteNames() throws {
        try expectHostileLayout("    require(\"/etc/passwd\") --here", kind: .runtime,
                                contains: "require: module '/etc/passwd': absolute names are not allowed", lineMarker: "--here")
    }

    @Test func requireRefusesSymlinksOutOfTheFolder() throws {
        let outside = NSTemporaryDirectory() + "outside-\(UUID().uuidString).lua"
        try "return { secret = 42 }".write(toFile: outside, atomically: true, encoding: .utf8)
        let fixture = try PolicyFixture(["policy.lua": hostilePolicy("    require(\"escape\") --here")])
        try FileManager.default.createSymbolicLink(atPath: fixture.folder + "/escape.lua", withDestinationPath: outside)
        let runtime = try fixture.runtime()
        #expect { _ = try runtime.layout(for: FileFacts(path: "/hostile", size: 1), allocator: fixture.allocator()) } throws: {
            let error = $0 as? PolicyError
            return error?.line == 4 && error?.kind == .runtime
                && error?.description.contains("escape.lua resolves to \(outside), outside the policy folder") == true
        }
        _ = try runtime.layout(for: FileFacts(path: "/good", size: 1), allocator: fixture.allocator())
    }

    @Test func requireFollowsSymlinksInsideTheFolder() throws {
        let fixture = try PolicyFixture([
            "lib/real.lua": "return { answer = 42 }",
            "policy.lua": """
                assert(require("lib.alias").answer == 42)
                assert(require("lib.alias") == require("lib.alias"))
                function layout(file, devices) return { ext_type = "simple", extents = { alloc(0, 1) } } end
                """,
        ])
        try FileManager.default.createSymbolicLink(atPath: fixture.folder + "/lib/alias.lua",
                                                   withDestinationPath: fixture.folder + "/lib/real.lua")
        _ = try fixture.runtime()
    }

    @Test func requireRefusesMissingModulesAndBadNames() throws {
        try expectHostileLayout("    require(\"nope\") --here", kind: .runtime,
                                contains: "require: module 'nope': no file nope.lua in the policy folder", lineMarker: "--here")
        try expectHostileLayout("    require(\"a b\") --here", kind: .runtime,
                                contains: "require: module 'a b': a name is dot-separated", lineMarker: "--here")
    }

    @Test func requiredModulesAreTextOnly() throws {
        let fixture = try PolicyFixture(["policy.lua": hostilePolicy("    require(\"blob\") --here"), "blob.lua": "\u{1B}Lua garbage"])
        let runtime = try fixture.runtime()
        #expect { _ = try runtime.layout(for: FileFacts(path: "/hostile", size: 1), allocator: fixture.allocator()) } throws: {
            ($0 as? PolicyError)?.description.contains("attempt to load a binary chunk (mode is 't')") == true
        }
    }

    @Test func moduleErrorsNameTheModuleFileAndLine() throws {
        let fixture = try PolicyFixture([
            "policy.lua": hostilePolicy("    require(\"lib.broken\").explode()"),
            "lib/broken.lua": "local M = {}\nfunction M.explode()\n  error(\"kaboom\")\nend\nreturn M\n",
        ])
        let runtime = try fixture.runtime()
        #expect { _ = try runtime.layout(for: FileFacts(path: "/hostile", size: 1), allocator: fixture.allocator()) } throws: {
            ($0 as? PolicyError)?.description == "lib/broken.lua:3: layout: kaboom"
        }
    }

    @Test func circularRequiresAreRefused() throws {
        let fixture = try PolicyFixture([
            "policy.lua": hostilePolicy("    require(\"a\")"),
            "a.lua": "return require(\"b\")", "b.lua": "return require(\"a\")",
        ])
        let runtime = try fixture.runtime()
        #expect { _ = try runtime.layout(for: FileFacts(path: "/hostile", size: 1), allocator: fixture.allocator()) } throws: {
            ($0 as? PolicyError)?.description == "b.lua:1: layout: require: module 'a' requires itself while loading"
        }
    }

    @Test("a module whose load raised is loaded again by the next require, not called a cycle")
    func aFailedModuleLoadsAgain() throws {
        let fixture = try PolicyFixture([
            "policy.lua": """
                function layout(file, devices)
                  local ok, problem = pcall(require, "lib.flaky")
                  assert(not ok and problem:find("not yet", 1, true), problem)
                  assert(require("lib.flaky").attempt == 2)
                  return { ext_type = "simple", extents = { alloc(0, file.size) } }
                end
                """,
            "lib/flaky.lua": "attempts = (attempts or 0) + 1\nif attempts == 1 then error(\"not yet\") end\nreturn { attempt = attempts }\n",
        ])
        let runtime = try fixture.runtime()
        _ = try runtime.layout(for: FileFacts(path: "/a", size: 1), allocator: fixture.allocator())
    }

    @Test("require of a FIFO in the policy folder is refused at once instead of waiting for a writer")
    func requireRefusesAFifo() throws {
        let fixture = try PolicyFixture(["policy.lua": hostilePolicy("    require(\"lib.pipe\")")])
        try FileManager.default.createDirectory(atPath: fixture.folder + "/lib", withIntermediateDirectories: true)
        #expect(mkfifo(fixture.folder + "/lib/pipe.lua", 0o644) == 0)
        let runtime = try fixture.runtime()
        #expect { _ = try runtime.layout(for: FileFacts(path: "/hostile", size: 1), allocator: fixture.allocator()) } throws: {
            ($0 as? PolicyError)?.description.hasSuffix("require: module 'lib.pipe': lib/pipe.lua is not a readable regular file") == true
        }
    }
}
