import Allocation
internal import CLua
import Fmap
import Logging

/// The Swift side of the host functions a policy calls (`alloc`, `log`, `require`), and
/// what settles one layout call's allocations (the C side records them: `CallAllocations`).
///
/// Reached from C through an unretained pointer; the owning `PolicyRuntime` keeps it alive.
final class PolicyHost {
    let logger: Logger
    let script: PolicyScript
    var modules: PolicyModuleResolver { script.modules }
    let devices: [DeviceFacts]
    let deviceSizes: [UInt64]
    /// Read on every `alloc`; unchecked for overlapping access, as one thread owns the host.
    @exclusivity(unchecked) private var allocator: (any PolicyAllocator)?

    init(logger: Logger, script: PolicyScript, devices: [DeviceFacts]) {
        self.logger = logger
        self.script = script
        self.devices = devices
        deviceSizes = devices.map(\.size)
    }

    func beginLayout(with allocator: any PolicyAllocator) {
        self.allocator = allocator
    }

    /// Ends a failed call: releases everything it allocated.
    func endLayout(releasing allocations: CallAllocations) {
        if let allocator {
            for extent in allocations { allocator.release(extent) }
        }
        allocator = nil
    }

    /// Ends a call that returned `fmap`: keeps the allocations it uses and releases the rest.
    /// Throws naming the first range of `fmap` outside every allocation, having released them all.
    func endLayout(keepingWhat fmap: Fmap, of allocations: CallAllocations) throws(FmapValidationError) {
        let fault = withUnsafeTemporaryAllocation(of: Bool.self, capacity: allocations.count) { used in
            used.initialize(repeating: false)
            let fault = LayoutResult.markAllocations(usedBy: fmap, in: allocations, used: used)
            if let allocator {
                for (i, extent) in allocations.enumerated() where fault != nil || !used[i] { allocator.release(extent) }
            }
            return fault
        }
        allocator = nil
        if let fault { throw fault }
    }

    enum AllocFailure: Error {
        case noSpace(String)
        case badArgument(String)
    }

    func allocate(device: Int64, bytes: Int64, alignment: Int64) throws(AllocFailure) -> SimpleExtent {
        guard let allocator else { throw .badArgument("alloc: only available inside layout") }
        guard device >= 0, device < Int64(devices.count) else {
            throw .badArgument("alloc: device index \(device) is out of range (\(devices.count) devices, indices 0...\(devices.count - 1))")
        }
        guard bytes > 0 else { throw .badArgument("alloc: bytes must be positive, got \(bytes)") }
        guard alignment >= 0, alignment & (alignment &- 1) == 0 else {
            throw .badArgument("alloc: align \(alignment) is not a power of two")
        }
        let align = alignment == 0 ? devices[Int(device)].alignment : UInt64(alignment)
        do {
            return try allocator.allocate(device: UInt32(device), bytes: UInt64(bytes), alignment: align)
        } catch {
            if case .unknownDevice = error { throw .badArgument("alloc: \(error)") }
            throw .noSpace("alloc: \(error)")
        }
    }

    /// What a policy test's `layout_of` allocates from and is checked against; nil outside tests.
    var testLayout: TestLayoutSession?

    /// Starts a test's `layout_of` call: `alloc` draws from the session's allocator.
    func beginTestLayout(freeBytes: UnsafeMutableBufferPointer<Int64>) {
        guard let session = testLayout else { return }
        for i in freeBytes.indices { freeBytes[i] = Int64(clamping: session.allocator.freeBytes(device: UInt32(i))) }
        beginLayout(with: session.allocator)
    }

    /// Ends a test's `layout_of` call: validates the flattened fmap (nil when the hook failed)
    /// and keeps only the memory it uses; returns why the fmap was refused, if it was.
    func endTestLayout(_ values: UnsafeBufferPointer<Int64>?, allocations: CallAllocations, fileSize: UInt64) -> String? {
        guard let session = testLayout, let values else {
            endLayout(releasing: allocations)
            return nil
        }
        do throws(FmapValidationError) {
            let fmap = try LayoutResult.checked(values, fileSize: fileSize, limits: session.fmapLimits, deviceSizes: deviceSizes)
            try endLayout(keepingWhat: fmap, of: allocations)
            return nil
        } catch {
            endLayout(releasing: allocations)
            return error.description
        }
    }

    /// A script's `log` and `print`, and warnings about its text (once per script, however
    /// many states load it).
    func log(level: Int32, message: String) {
        if level == CLUA_LOG_LOAD_WARNING {
            if script.isFirstLogging(message) { logger.warning("\(message)") }
            return
        }
        let levels: [Logger.Level] = [.debug, .info, .warning, .error]
        logger.log(level: levels[Int(max(0, min(3, level)))], "\(message)")
    }
}

/// The allocation state and fmap rules behind a policy test's `layout_of` calls.
struct TestLayoutSession {
    var allocator: AllocationStateAllocator
    var fmapLimits: FmapLimits
}
