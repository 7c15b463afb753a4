import Foundation
import SystemPackage
import Testing

/// One hostile behaviour of `hostilePolicy`: the file that triggers it, the Lua line that
/// misbehaves (nil: the error names the `function layout` line, as for a bad return value
/// or an invalid fmap), the errno a truncate gets and a fragment of the error.
struct HostileBehaviour: CustomStringConvertible, Sendable {
    var file: String
    var lua: String?
    var errno: Errno = .ioError
    var message: String

    var description: String { file }
}

let hostileBehaviours: [HostileBehaviour] = [
    .init(file: "loop", lua: "while true do end", message: "instruction budget"),
    .init(file: "memory-bomb", lua: "local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1 << 20) .. i end", message: "memory limit"),
    .init(file: "deep-recursion", lua: "local function down(n) return 1 + down(n + 1) end return down(1)", message: "stack overflow"),
    .init(file: "string-rep-bomb", lua: "local s = string.rep('bomb', 1 << 40) return s", message: "too large"),
    .init(file: "concat-bomb", lua: "local s = 'x' for i = 1, 64 do s = s .. s end return s", message: "memory limit"),
    .init(file: "error-table", lua: "error({ code = 1 })", message: "error object is a table value"),
    .init(file: "error-nil", lua: "error(nil)", message: "nil"),
    .init(file: "error-function", lua: "error(print)", message: "error object is a function value"),
    .init(file: "return-number", lua: "return 42", message: "layout: "),
    .init(file: "return-bad-extents", lua: "return { ext_type = 'simple', extents = 'everywhere' }", message: "extents"),
    .init(file: "return-nothing", lua: "return", message: "layout: "),
    .init(file: "overlapping", lua: "local e = alloc(0, file.size) return { ext_type = 'simple', extents = { e, e } }", message: "overlap"),
    .init(file: "out-of-bounds", lua: "alloc(0, file.size) return { ext_type = 'simple', extents = { { dev = 0, offset = devices[1].size, length = file.size } } }", message: "runs past the end"),
    .init(file: "not-allocated", lua: "return { ext_type = 'simple', extents = { { dev = 1, offset = 64 * 2097152, length = file.size } } }", message: "alloc"),
    .init(file: "misaligned", lua: "local e = alloc(0, file.size + 2097152) e.offset = e.offset + 4096 return { ext_type = 'simple', extents = { e } }", message: "not a multiple of 0x200000"),
    .init(file: "too-many-extents", lua: "local x = {} for i = 1, 40 do x[i] = alloc(i % 2, 2097152) end return { ext_type = 'simple', extents = x }", message: "extents"),
    .init(file: "device-index-alloc", lua: "return { ext_type = 'simple', extents = { alloc(7, file.size) } }", message: "7"),
    .init(file: "device-index-fmap", lua: "return { ext_type = 'simple', extents = { { dev = 9, offset = 0, length = file.size } } }", message: "9"),
    .init(file: "device-full", lua: "return { ext_type = 'simple', extents = { alloc(0, 1 << 40) } }", errno: .noSpace, message: "no contiguous free run"),
    .init(file: "io", lua: "local f = io.open('/etc/passwd') return f:read('a')", message: "io"),
    .init(file: "os-execute", lua: "os.execute('touch /tmp/famfs-hostile-was-here')", message: "execute"),
    .init(file: "debug", lua: "debug.sethook()", message: "debug"),
    .init(file: "loadlib", lua: "package.loadlib('/lib/x86_64-linux-gnu/libc.so.6', 'system')", message: "package"),
    .init(file: "bytecode", lua: "assert(load('\\27LuaT\\0\\25\\147\\r\\n\\26\\n', 'chunk', 'b'))()", message: "binary chunk"),
    .init(file: "dofile", lua: "dofile('../outside.lua')", message: "dofile"),
    .init(file: "require-dotdot", lua: "require('..outside')", message: "outside"),
    .init(file: "require-absolute", lua: "require('/etc/passwd')", message: "passwd"),
    .init(file: "require-symlink", lua: "require('escape')", message: "escape"),
    .init(file: "string-dump", lua: "return string.dump(layout)", message: "dump"),
    .init(file: "looping-message-handler", lua: "xpcall(error, function() while true do end end, 'x')", message: "instruction budget"),
    .init(file: "slow-library-calls", lua: "local s = string.rep('x', 1 << 24) while true do s:gsub('x', 'y') end", message: "time limit"),
    .init(file: "gc-metatable", lua: "setmetatable({}, { __gc = function() while true do end end })", message: "__gc"),
]

/// A policy whose `layout` misbehaves in the way its file's name asks, each on its own line,
/// and lays out any other file on device 0 through a module from its own folder.
let hostilePolicy: String = {
    var lines = ["local good = require('lib.good')", "function layout(file, devices)", "  local name = file.path:match('([^/]+)%.bin$')"]
    for behaviour in hostileBehaviours {
        lines.append("  if name == '\(behaviour.file)' then \(behaviour.lua ?? "") end")
    }
    lines += ["  return good.layout(file)", "end"]
    return lines.joined(separator: "\n") + "\n"
}()

/// The line of `hostilePolicy` an error about `behaviour` names.
func hostileLine(_ behaviour: HostileBehaviour) -> Int {
    let lines = hostilePolicy.split(separator: "\n", omittingEmptySubsequences: false)
    let bound = ["return-number", "return-bad-extents", "return-nothing", "overlapping", "out-of-bounds", "not-allocated",
                 "misaligned", "too-many-extents", "device-index-fmap"]
    if bound.contains(behaviour.file) { return lines.firstIndex { $0.hasPrefix("function layout") }! + 1 }
    return lines.firstIndex { $0.contains("'\(behaviour.file)'") }! + 1
}

/// Writes the policy folder: hostile.lua, lib/good.lua, a symlink escaping the folder, and
/// beside the folder a file that must never be read (it would log a marker if run).
func writeHostilePolicy(in directory: String) throws -> String {
    let folder = "\(directory)/policy"
    try FileManager.default.createDirectory(atPath: "\(folder)/lib", withIntermediateDirectories: true)
    try hostilePolicy.write(toFile: "\(folder)/hostile.lua", atomically: true, encoding: .utf8)
    try """
        local M = {}
        function M.layout(file) return { ext_type = "simple", extents = { alloc(0, file.size) } } end
        return M
        """.write(toFile: "\(folder)/lib/good.lua", atomically: true, encoding: .utf8)
    try "log.error('OUTSIDE-FILE-WAS-RUN') error('OUTSIDE-FILE-WAS-RUN') return {}\n"
        .write(toFile: "\(directory)/outside.lua", atomically: true, encoding: .utf8)
    try FileManager.default.createSymbolicLink(atPath: "\(folder)/escape.lua", withDestinationPath: "../outside.lua")
    // Dated 2000, so that any read of it moves its access time (relatime updates a day-old one).
    var times = [timespec(tv_sec: outsideFileTime, tv_nsec: 0), timespec(tv_sec: outsideFileTime, tv_nsec: 0)]
    guard utimensat(AT_FDCWD, "\(directory)/outside.lua", &times, 0) == 0 else { throw Errno(rawValue: errno) }
    return "\(folder)/hostile.lua"
}

/// 2000-01-01, the times of the file beside the policy folder.
let outsideFileTime = 946_684_800

/// Whether the file beside the policy folder was never opened for reading since it was written.
func outsideFileUnread(in directory: String) -> Bool {
    var info = stat()
    return stat("\(directory)/outside.lua", &info) == 0 && info.st_atim.tv_sec == outsideFileTime
}

@Suite("Hostile policies through the daemon and through eval", .serialized)
struct HostilePolicyTests {
    @Test("each hostile layout fails its truncate with a documented errno and a policy:line log line; the daemon keeps serving")
    func throughTheDaemon() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let policy = try writeHostilePolicy(in: daemon.directory)
        try daemon.start(policy: policy)
        for (number, behaviour) in hostileBehaviours.enumerated() {
            let logBefore = daemon.log.utf8.count
            let freeBefore = try freeBytes(daemon.mountpoint)
            let path = "\(daemon.mountpoint)/\(behaviour.file).bin"
            let file = try FileDescriptor.open(FilePath(path), .readWrite, options: .create, permissions: .ownerReadWrite)
            #expect(throws: behaviour.errno, "\(behaviour)") { try file.resize(to: 4 << 20) }
            try file.close()
            let logged = String(daemon.log.utf8.dropFirst(logBefore)) ?? ""
            let line = "hostile.lua:\(hostileLine(behaviour)):"
            #expect(logged.contains(line) && logged.contains(behaviour.message), "\(behaviour): expected \(line) … \(behaviour.message) in: \(logged)")
            #expect(!logged.contains("OUTSIDE-FILE-WAS-RUN") && !logged.contains("root:x:0:0"), "\(behaviour) read outside the policy folder")
            #expect(try freeBytes(daemon.mountpoint) == freeBefore, "\(behaviour): its allocations were released")

            let healthy = randomBytes(2 << 20 + 17)
            try writeFile("\(daemon.mountpoint)/healthy-\(number).bin", size: healthy.count, data: healthy)
            #expect(try readFile("\(daemon.mountpoint)/healthy-\(number).bin") == healthy, "the daemon serves after \(behaviour)")
            #expect(try freeBytes(daemon.mountpoint) < freeBefore)
            // Never given memory, the refused file is not in the log and can go.
            try FileManager.default.removeItem(atPath: path)
        }
        #expect(!FileManager.default.fileExists(atPath: "/tmp/famfs-hostile-was-here"))
        #expect(outsideFileUnread(in: daemon.directory), "the file beside the policy folder was read")
        daemon.send(SIGTERM)
        #expect(daemon.waitForExit() == 0, "the daemon is alive and stops cleanly")
        #expect(try runTool("famfs-policy", ["check"] + daemon.devices).status == 0)
    }

    @Test("famfs-policy eval --json reports each hostile file's error with policy:line, and lays out the healthy ones")
    func throughEval() throws {
        let directory = "/dev/shm/famfs-hostile-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let policy = try writeHostilePolicy(in: directory)
        let files = hostileBehaviours.flatMap { ["--file", "/\($0.file).bin=4M", "--file", "/after-\($0.file).bin=4M"] }
        let eval = try runTool("famfs-policy", ["eval", "--policy", policy, "--device", "/dev/dax0.0=1G", "--device", "/dev/dax1.0=1G", "--json"] + files)
        #expect(eval.status == 1, "a failed file fails the evaluation")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(eval.output.utf8)) as? [String: Any], "\(eval.output)")
        let results = try #require(report["files"] as? [[String: Any]])
        #expect(results.count == 2 * hostileBehaviours.count)
        for (behaviour, pair) in zip(hostileBehaviours, stride(from: 0, to: results.count, by: 2)) {
            let hostile = results[pair], after = results[pair + 1]
            let error = hostile["error"] as? String ?? ""
            #expect(error.contains("hostile.lua:\(hostileLine(behaviour)):") && error.contains(behaviour.message), "\(behaviour): \(error)")
            #expect(hostile["fmap"] is NSNull, "\(behaviour)")
            #expect(!error.contains("OUTSIDE-FILE-WAS-RUN") && !error.contains("root:x:0:0"))
            #expect(after["fmap"] is [String: Any], "the file after \(behaviour) gets a layout: \(after)")
        }
        #expect(!eval.output.contains("OUTSIDE-FILE-WAS-RUN"))
        #expect(outsideFileUnread(in: directory), "the file beside the policy folder was read")
    }
}
