import Allocation
import Fmap
import Logging

/// The Swift side of the host functions a policy calls (`alloc`, `log`, `require`), and
/// the record of what one layout call allocated.
///
/// Reached from C through an unretained pointer; the owning `PolicyRuntime` keeps it alive.
final class PolicyHost {
    let logger: Logger
    let modules: PolicyModuleResolver
    let devices: [DeviceFacts]
    private var allocator: (any PolicyAllocator)?
    /// Everything `alloc` handed out during the current layout call.
    private(set) var allocations: [SimpleExtent] = []

    init(logger: Logger, modules: PolicyModuleResolver, devices: [DeviceFacts]) {
        self.logger = logger
        self.modules = modules
        self.devices = devices
        allocations.reserveCapacity(64)
    }

    func beginLayout(with allocator: any PolicyAllocator) {
        self.allocator = allocator
        allocations.removeAll(keepingCapacity: true)
    }

    /// Ends the call; `keep` decides, per allocation, whether it stays allocated.
    func endLayout(keeping keep: (SimpleExtent) -> Bool) {
        if let allocator {
            for extent in allocations where !keep(extent) { allocator.release(extent) }
        }
        allocator = nil
        allocations.removeAll(keepingCapacity: true)
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
            let extent = try allocator.allocate(device: UInt32(device), bytes: UInt64(bytes), alignment: align)
            allocations.append(extent)
            return extent
        } catch {
            if case .unknownDevice = error { throw .badArgument("alloc: \(error)") }
            throw .noSpace("alloc: \(error)")
        }
    }

    /// What a policy test's `layout_of` allocates from and is checked against; nil outside tests.
    var testLayout: TestLayoutSession?

    /// Starts a test's `layout_of` call: records allocations from the session's allocator.
    func beginTestLayout(freeBytes: UnsafeMutableBufferPointer<Int64>) {
        guard let session = testLayout else { return }
        for i in freeBytes.indices { freeBytes[i] = Int64(clamping: session.allocator.freeBytes(device: UInt32(i))) }
        beginLayout(with: session.allocator)
    }

    /// Ends a test's `layout_of` call: validates the flattened fmap (nil when the hook failed)
    /// and keeps only the memory it uses; returns why the fmap was refused, if it was.
    func endTestLayout(_ values: UnsafeBufferPointer<Int64>?, fileSize: UInt64) -> String? {
        guard let session = testLayout, let values else {
            endLayout(keeping: { _ in false })
            return nil
        }
        do {
            let fmap = try LayoutResult.checked(values, fileSize: fileSize, limits: session.fmapLimits,
                                                deviceSizes: devices.map(\.size), allocations: allocations)
            let used = fmap.claimedRanges
            endLayout(keeping: { extent in used.contains { $0.overlaps(extent) } })
            return nil
        } catch {
            endLayout(keeping: { _ in false })
            return error.description
        }
    }

    func log(level: Int32, message: String) {
        let levels: [Logger.Level] = [.debug, .info, .warning, .error]
        logger.log(level: levels[Int(max(0, min(3, level)))], "\(message)")
    }
}

/// The allocation state and fmap rules behind a policy test's `layout_of` calls.
struct TestLayoutSession {
    var allocator: AllocationStateAllocator
    var fmapLimits: FmapLimits
}
