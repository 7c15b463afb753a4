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

    func log(level: Int32, message: String) {
        let levels: [Logger.Level] = [.debug, .info, .warning, .error]
        logger.log(level: levels[Int(max(0, min(3, level)))], "\(message)")
    }
}
