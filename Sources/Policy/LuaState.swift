internal import CLua
import Fmap
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one Swift owner of a C `clua_runtime` (one sandboxed `lua_State`): every call into
/// Lua and every host callback out of it passes through here.
final class LuaState {
    private let runtime: OpaquePointer
    private let host: PolicyHost
    /// The policy's chunk name, used when a failure has no location of its own.
    let policyName: String

    init(limits: PolicyLimits, host: PolicyHost, policyName: String) throws(PolicyError) {
        self.host = host
        self.policyName = policyName
        let callbacks = clua_host(context: Unmanaged.passUnretained(host).toOpaque(),
                                  alloc: hostAlloc, log: hostLog, read_module: hostReadModule,
                                  test_layout_begin: hostTestLayoutBegin, test_layout_end: hostTestLayoutEnd)
        guard let runtime = clua_open(limits.memoryBytes, Int64(limits.instructionBudget), limits.timeLimitNanoseconds, callbacks) else {
            throw PolicyError(kind: .memory, file: policyName, line: nil, hook: .load,
                              message: "cannot create a Lua state within \(limits.memoryBytes) bytes")
        }
        self.runtime = runtime
    }

    deinit { clua_close(runtime) }

    func setDevices(_ devices: [DeviceFacts], freeBytes: [Int64]) throws(PolicyError) {
        let paths = devices.map { strdup($0.path) }
        defer { paths.forEach { free($0) } }
        var table = devices.indices.map { i in
            clua_device(index: Int64(devices[i].index), path: paths[i], size: Int64(clamping: devices[i].size),
                        free_bytes: freeBytes[i], alignment: Int64(clamping: devices[i].alignment),
                        numa_node: Int64(devices[i].numaNode ?? -1))
        }
        try check(clua_set_devices(runtime, &table, Int32(table.count)), hook: .load)
    }

    func setConfig(_ config: [String: String]) throws(PolicyError) {
        let pairs = config.sorted { $0.key < $1.key }
        let keys = pairs.map { UnsafePointer(strdup($0.key)) }
        let values = pairs.map { UnsafePointer(strdup($0.value)) }
        defer { (keys + values).forEach { free(UnsafeMutablePointer(mutating: $0)) } }
        try check(clua_set_config(runtime, keys, values, Int32(pairs.count)), hook: .load)
    }

    func load(text: [UInt8]) throws(PolicyError) {
        let status = text.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                clua_load_policy(runtime, chars.baseAddress, chars.count, "@" + policyName)
            }
        }
        try check(status, hook: .load)
    }

    /// Installs `expect`, `expect_eq`, `expect_error` and `layout_of` for a policy test.
    func openTestHelpers() throws(PolicyError) {
        try check(clua_open_test_helpers(runtime), hook: .load)
    }

    /// Runs a further chunk (a test file) in this state; `chunkName` is how errors name it.
    func run(text: [UInt8], chunkName: String) throws(PolicyError) {
        let status = text.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                clua_run_chunk(runtime, chars.baseAddress, chars.count, "@" + chunkName)
            }
        }
        try check(status, hook: .load, defaultFile: chunkName)
    }

    /// The global functions whose names start with `prefix`, ordered by file and line.
    func functions(named prefix: String) throws(PolicyError) -> [(name: String, file: String, line: Int)] {
        try check(clua_list_functions(runtime, prefix), hook: .load)
        let parts = string.split(separator: "\0", omittingEmptySubsequences: false).dropLast().map(String.init)
        let lines = integers
        return stride(from: 0, to: parts.count - 1, by: 2).map { i in
            (name: parts[i], file: parts[i + 1], line: i / 2 < lines.count ? Int(lines[i / 2]) : 0)
        }
    }

    /// Calls the global function `name` with the device table; nil when it returned, or
    /// where and why it raised.
    func callFunction(_ name: String) -> (file: String, line: Int?, message: String)? {
        guard clua_call_function(runtime, name) != CLUA_OK else { return nil }
        let failure = clua_last_failure(runtime)!.pointee
        return (Self.text(failure.source), failure.line > 0 ? Int(failure.line) : nil, Self.text(failure.message))
    }

    func defines(_ hook: PolicyHook) -> Bool {
        guard let raw = Self.rawHook(hook) else { return false }
        return clua_has_hook(runtime, raw) != 0
    }

    /// Calls `hook`; results are then read with `integers` and `string`.
    func call(_ hook: PolicyHook, file: FileFacts? = nil, deviceIndex: Int64 = 0,
              freeBytes: UnsafePointer<Int64>? = nil) throws(PolicyError) {
        guard let raw = Self.rawHook(hook) else { return }
        let status: clua_status
        if let file {
            var path = file.path
            status = path.withUTF8 { utf8 in
                utf8.withMemoryRebound(to: CChar.self) { path in
                    var facts = clua_file(path: path.baseAddress, path_length: path.count, size: Int64(clamping: file.size),
                                          uid: Int64(file.uid), gid: Int64(file.gid), mode: Int64(file.mode))
                    return clua_call(runtime, raw, &facts, deviceIndex, freeBytes)
                }
            }
        } else {
            status = clua_call(runtime, raw, nil, deviceIndex, freeBytes)
        }
        try check(status, hook: hook)
    }

    /// The integer results of the last successful call (valid until the next call).
    var integers: UnsafeBufferPointer<Int64> {
        var count = 0
        let base = clua_result_integers(runtime, &count)
        return UnsafeBufferPointer(start: base, count: count)
    }

    /// What `alloc` handed out during the last call (valid until the next call).
    var allocations: CallAllocations {
        var count = 0
        let base = clua_layout_allocations(runtime, &count)
        return CallAllocations(ranges: UnsafeBufferPointer(start: base, count: count))
    }

    /// The string result of the last successful call.
    var string: String {
        var length = 0
        guard let base = clua_result_string(runtime, &length) else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: base, count: length), as: UTF8.self)
    }

    var memoryInUse: Int { clua_memory_in_use(runtime) }

    /// Where `hook` is defined, for errors found after the hook returned.
    func location(of hook: PolicyHook) -> (file: String, line: Int?) {
        guard let raw = Self.rawHook(hook), clua_hook_line(runtime, raw) > 0 else { return (policyName, nil) }
        return (String(cString: clua_hook_source(runtime, raw)), Int(clua_hook_line(runtime, raw)))
    }

    private func check(_ status: clua_status, hook: PolicyHook, defaultFile: String? = nil) throws(PolicyError) {
        guard status != CLUA_OK else { return }
        let failure = clua_last_failure(runtime)!.pointee
        var file = Self.text(failure.source)
        var line: Int? = failure.line > 0 ? Int(failure.line) : nil
        if line == nil || file.isEmpty {
            let defined = location(of: hook)
            (file, line) = (defaultFile ?? defined.file, line ?? defined.line)
        }
        throw PolicyError(kind: Self.kind(status), file: file, line: line, hook: hook,
                          field: Self.text(failure.field), message: Self.text(failure.message))
    }

    private static func kind(_ status: clua_status) -> PolicyError.Kind {
        switch status {
        case CLUA_SYNTAX: return .syntax
        case CLUA_INSTRUCTION_BUDGET: return .instructionBudget
        case CLUA_TIME_LIMIT: return .timeLimit
        case CLUA_MEMORY: return .memory
        case CLUA_BAD_RETURN: return .badReturn
        case CLUA_ALLOCATION: return .allocation
        case CLUA_MISSING_HOOK: return .missingHook
        default: return .runtime
        }
    }

    private static func rawHook(_ hook: PolicyHook) -> clua_hook? {
        switch hook {
        case .layout: return CLUA_HOOK_LAYOUT
        case .placement: return CLUA_HOOK_PLACEMENT
        case .onRelease: return CLUA_HOOK_ON_RELEASE
        case .resolveDevice: return CLUA_HOOK_RESOLVE_DEVICE
        case .load: return nil
        }
    }

    /// A NUL-terminated C character array (imported as a tuple) as a String.
    private static func text<T>(_ tuple: T) -> String {
        withUnsafeBytes(of: tuple) { bytes in
            let count = bytes.firstIndex(of: 0) ?? bytes.count
            return String(decoding: bytes.prefix(count), as: UTF8.self)
        }
    }
}

/// Writes `message` into a C buffer of `size` bytes, NUL terminated.
private func write(_ message: String, to buffer: UnsafeMutablePointer<CChar>?, size: Int) {
    guard let buffer, size > 0 else { return }
    var utf8 = Array(message.utf8.prefix(size - 1))
    utf8.append(0)
    utf8.withUnsafeBytes { UnsafeMutableRawPointer(buffer).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
}

private func host(_ context: UnsafeMutableRawPointer?) -> PolicyHost {
    Unmanaged<PolicyHost>.fromOpaque(context!).takeUnretainedValue()
}

private let hostAlloc: @convention(c) (UnsafeMutableRawPointer?, Int64, Int64, Int64, UnsafeMutablePointer<Int64>?,
                                       UnsafeMutablePointer<Int64>?, UnsafeMutablePointer<CChar>?, Int) -> clua_host_status = {
    context, device, bytes, alignment, offset, length, messageBuffer, messageSize in
    do throws(PolicyHost.AllocFailure) {
        let extent = try host(context).allocate(device: device, bytes: bytes, alignment: alignment)
        offset?.pointee = Int64(clamping: extent.offset)
        length?.pointee = Int64(clamping: extent.length)
        return CLUA_HOST_OK
    } catch {
        switch error {
        case .noSpace(let message):
            write(message, to: messageBuffer, size: messageSize)
            return CLUA_HOST_NO_SPACE
        case .badArgument(let message):
            write(message, to: messageBuffer, size: messageSize)
            return CLUA_HOST_BAD_ARGUMENT
        }
    }
}

private let hostLog: @convention(c) (UnsafeMutableRawPointer?, Int32, UnsafePointer<CChar>?, Int) -> Void = {
    context, level, message, length in
    let text = message.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: length), as: UTF8.self) } ?? ""
    host(context).log(level: level, message: text)
}

private let hostReadModule: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?,
                                            UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, UnsafeMutablePointer<Int>?,
                                            UnsafeMutablePointer<CChar>?, Int, UnsafeMutablePointer<CChar>?, Int) -> clua_host_status = {
    context, name, text, textLength, chunkName, chunkNameSize, messageBuffer, messageSize in
    do throws(ModuleError) {
        let module = try host(context).modules.load(String(cString: name!))
        let buffer = malloc(max(module.text.count, 1))!.assumingMemoryBound(to: CChar.self)
        module.text.withUnsafeBytes { UnsafeMutableRawPointer(buffer).copyMemory(from: $0.baseAddress ?? UnsafeRawPointer(buffer), byteCount: $0.count) }
        text?.pointee = buffer
        textLength?.pointee = module.text.count
        write(module.chunkName, to: chunkName, size: chunkNameSize)
        return CLUA_HOST_OK
    } catch {
        write(error.message, to: messageBuffer, size: messageSize)
        return CLUA_HOST_BAD_ARGUMENT
    }
}

private let hostTestLayoutBegin: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<Int64>?, Int32) -> clua_host_status = {
    context, freeBytes, count in
    host(context).beginTestLayout(freeBytes: UnsafeMutableBufferPointer(start: freeBytes, count: freeBytes == nil ? 0 : Int(count)))
    return CLUA_HOST_OK
}

private let hostTestLayoutEnd: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<Int64>?, Int,
                                               UnsafePointer<clua_range>?, Int, Int64,
                                               UnsafeMutablePointer<CChar>?, Int) -> clua_host_status = {
    context, values, count, allocations, allocationCount, fileSize, messageBuffer, messageSize in
    let result = values.map { UnsafeBufferPointer(start: $0, count: count) }
    let allocated = CallAllocations(ranges: UnsafeBufferPointer(start: allocations, count: allocationCount))
    guard let problem = host(context).endTestLayout(result, allocations: allocated, fileSize: UInt64(max(0, fileSize))) else {
        return CLUA_HOST_OK
    }
    write(problem, to: messageBuffer, size: messageSize)
    return CLUA_HOST_BAD_ARGUMENT
}

/// The memory `alloc` handed out during one layout call, in order, as the C side recorded it.
struct CallAllocations: RandomAccessCollection {
    let ranges: UnsafeBufferPointer<clua_range>

    var startIndex: Int { 0 }
    var endIndex: Int { ranges.count }

    subscript(position: Int) -> SimpleExtent {
        let range = ranges[position]
        return SimpleExtent(device: UInt32(truncatingIfNeeded: range.device), offset: UInt64(range.offset),
                            length: UInt64(range.length))
    }
}
