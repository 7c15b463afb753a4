import Allocation
internal import CLua
import Fmap
import Logging

/// A loaded policy: one sandboxed Lua state and the hooks its script defines.
///
/// Not thread-safe and not `Sendable`: the daemon makes one runtime per worker thread
/// (each loads the same file into its own state; nothing is shared between states). To
/// reload, build a new runtime first and swap it in only if its init succeeded — a
/// runtime that exists has loaded its policy and defines `layout`.
///
/// A hook failure fails that one call; the state stays usable for the next.
public final class PolicyRuntime {
    /// The longest device path the kernel can be told (GET_DAXDEV's name field, NUL excluded).
    public static let maxDevicePathBytes = Int(CLUA_MAX_DEVICE_PATH)

    /// The policy file as given.
    public let policyPath: String
    public let devices: [DeviceFacts]
    /// The rules `layout` results must obey.
    public let fmapLimits: FmapLimits
    let host: PolicyHost
    private(set) var lua: LuaState
    /// What a state is loaded from, kept to load a fresh one after a memory failure.
    private let source: (text: [UInt8], config: [String: String], limits: PolicyLimits)
    /// Free bytes per device, refilled before each layout call (unchecked for overlapping
    /// access, as one thread owns the runtime).
    @exclusivity(unchecked) private var freeBytes: [Int64]
    /// Set by a memory failure that left the state nearly full; see `call`.
    private var stateIsFull = false
    /// Holds the caller's state during `layout(for:allocation:)`; empty otherwise.
    private let stateAllocator = AllocationStateAllocator(state: AllocationState(devices: []))

    /// Reads `policyPath` and loads it; see `init(script:devices:...)`.
    public convenience init(policyPath: String, devices: [DeviceFacts], config: [String: String] = [:],
                            limits: PolicyLimits = PolicyLimits(), fmapLimits: FmapLimits = .kernel,
                            allocator: (any PolicyAllocator)? = nil,
                            logger: Logger = Logger(label: "famfs.policy")) throws(PolicyError) {
        try self.init(script: PolicyScript(path: policyPath), devices: devices, config: config, limits: limits,
                      fmapLimits: fmapLimits, allocator: allocator, logger: logger)
    }

    /// Loads `script` into a fresh state: publishes `devices` (with their current free
    /// space from `allocator`, or their full size) and `config`, runs the file's top-level
    /// code under the limits, and checks that it defines `layout`. `devices[i].index` must be `i`.
    public init(script: PolicyScript, devices: [DeviceFacts], config: [String: String] = [:],
                limits: PolicyLimits = PolicyLimits(), fmapLimits: FmapLimits = .kernel,
                allocator: (any PolicyAllocator)? = nil,
                logger: Logger = Logger(label: "famfs.policy")) throws(PolicyError) {
        precondition(devices.indices.allSatisfy { Int(devices[$0].index) == $0 }, "devices must be listed in index order from 0")
        policyPath = script.path
        self.devices = devices
        self.fmapLimits = fmapLimits
        var policyLogger = logger
        policyLogger[metadataKey: "policy"] = "\(script.name)"
        host = PolicyHost(logger: policyLogger, script: script, devices: devices)
        source = (script.text, config, limits)
        freeBytes = devices.map { Int64(clamping: allocator?.freeBytes(device: $0.index) ?? $0.size) }
        lua = try Self.loadedState(source, host: host, policyName: script.name, devices: devices, freeBytes: freeBytes)
    }

    private static func loadedState(_ source: (text: [UInt8], config: [String: String], limits: PolicyLimits),
                                    host: PolicyHost, policyName: String, devices: [DeviceFacts],
                                    freeBytes: [Int64]) throws(PolicyError) -> LuaState {
        let lua = try LuaState(limits: source.limits, host: host, policyName: policyName)
        try lua.setDevices(devices, freeBytes: freeBytes)
        try lua.setConfig(source.config)
        try lua.load(text: source.text)
        return lua
    }

    /// Calls `hook`. A memory failure that leaves the state nearly full even after its
    /// garbage is collected (the script keeps what it made, in globals) would fail every
    /// later call too: the next call then loads the policy into a fresh state first, so its
    /// globals start over and it works. (The failed call's allocations are still read from
    /// the old state, to release them.)
    private func call(_ hook: PolicyHook, file: FileFacts? = nil, deviceIndex: Int64 = 0,
                      freeBytes: UnsafePointer<Int64>? = nil) throws(PolicyError) {
        if stateIsFull, let fresh = try? Self.loadedState(source, host: host, policyName: lua.policyName,
                                                          devices: devices, freeBytes: self.freeBytes) {
            host.logger.warning("the policy's state stayed full after a memory failure: loaded it again (its globals start over)")
            lua = fresh
            stateIsFull = false
        }
        do {
            try lua.call(hook, file: file, deviceIndex: deviceIndex, freeBytes: freeBytes)
        } catch {
            stateIsFull = error.kind == .memory && lua.memoryInUse > source.limits.memoryBytes / 4 * 3
            throw error
        }
    }

    /// The policy's name in error messages (its file name).
    public var policyName: String { lua.policyName }

    /// Whether the script defines `hook` (only `layout` is required).
    public func defines(_ hook: PolicyHook) -> Bool { lua.defines(hook) }

    /// Bytes the Lua state holds now.
    public var memoryInUse: Int { lua.memoryInUse }

    /// Runs `layout(file, devices)`: the script allocates through `alloc` and returns an
    /// fmap, which is validated against `fmapLimits` and the device sizes and must point
    /// only at memory this call allocated. On any failure every allocation of the call is
    /// released; on success allocations the fmap does not use are released.
    public func layout(for file: FileFacts, allocator: any PolicyAllocator) throws(PolicyError) -> Fmap {
        for i in devices.indices { freeBytes[i] = Int64(clamping: allocator.freeBytes(device: UInt32(i))) }
        host.beginLayout(with: allocator)
        do {
            try freeBytes.withUnsafeBufferPointer { (free) throws(PolicyError) in
                try call(.layout, file: file, freeBytes: free.baseAddress)
            }
            return try keptLayout(fileSize: file.size)
        } catch {
            host.endLayout(releasing: lua.allocations)
            throw error
        }
    }

    /// `layout(for:allocator:)` allocating straight from `allocation`: the state is moved
    /// into a reusable allocator for the call and back, never copied.
    public func layout(for file: FileFacts, allocation: inout AllocationState) throws(PolicyError) -> Fmap {
        swap(&stateAllocator.state, &allocation)
        defer { swap(&stateAllocator.state, &allocation) }
        return try layout(for: file, allocator: stateAllocator)
    }

    /// Runs `placement(file)`; `.dax` when the policy defines no placement hook. A backing
    /// path must be relative and stay inside the staging directory (`BackingPath`).
    public func placement(for file: FileFacts) throws(PolicyError) -> Placement {
        guard lua.defines(.placement) else { return .dax }
        try call(.placement, file: file)
        guard lua.integers.first == 1 else { return .dax }
        let backing = lua.string
        if let problem = BackingPath.problem(with: backing) {
            let (file, line) = lua.location(of: .placement)
            throw PolicyError(kind: .badReturn, file: file, line: line, hook: .placement, field: "backing_path",
                              message: "backing_path: \"\(backing.withVisibleNULs)\" \(problem)")
        }
        return .passthrough(backingPath: backing)
    }

    /// Runs `on_release(file)`: whether a passthrough file should be committed to DAX now;
    /// false when the policy defines no on_release hook.
    public func shouldCommitOnRelease(_ file: FileFacts) throws(PolicyError) -> Bool {
        guard lua.defines(.onRelease) else { return false }
        try call(.onRelease, file: file)
        return lua.integers.first == 1
    }

    /// Runs `resolve_device(index)`: the device path to give the kernel; the device's own
    /// path when the policy defines no resolve_device hook. Either way the path fits the
    /// kernel's name field (`maxDevicePathBytes`).
    public func resolveDevice(_ index: UInt32) throws(PolicyError) -> String {
        guard lua.defines(.resolveDevice) else {
            func refusal(_ message: String) -> PolicyError {
                PolicyError(kind: .runtime, file: lua.policyName, line: nil, hook: .resolveDevice, message: message)
            }
            guard Int(index) < devices.count else {
                throw refusal("device index \(index) is out of range (\(devices.count) devices)")
            }
            let path = devices[Int(index)].path
            guard path.utf8.count <= Self.maxDevicePathBytes else {
                throw refusal("device \(index)'s path is \(path.utf8.count) bytes; the kernel takes at most "
                              + "\(Self.maxDevicePathBytes) (define resolve_device to name a shorter path)")
            }
            return path
        }
        try call(.resolveDevice, deviceIndex: Int64(index))
        let path = lua.string
        let problem = path.utf8.contains(0) ? "contains a NUL byte" : !path.hasPrefix("/") ? "is not an absolute path" : nil
        if let problem {
            let (file, line) = lua.location(of: .resolveDevice)
            throw PolicyError(kind: .badReturn, file: file, line: line, hook: .resolveDevice,
                              message: "resolve_device returned \"\(path.withVisibleNULs)\", which \(problem)")
        }
        return path
    }

    /// Decodes the layout result, validates it, checks it uses only this call's memory and
    /// keeps that memory (releasing the rest).
    private func keptLayout(fileSize: UInt64) throws(PolicyError) -> Fmap {
        do {
            let fmap = try LayoutResult.checked(lua.integers, fileSize: fileSize, limits: fmapLimits,
                                                deviceSizes: host.deviceSizes)
            try host.endLayout(keepingWhat: fmap, of: lua.allocations)
            return fmap
        } catch {
            let (file, line) = lua.location(of: .layout)
            throw PolicyError(kind: .invalidFmap, file: file, line: line, hook: .layout,
                              field: error.field, message: error.description)
        }
    }
}
