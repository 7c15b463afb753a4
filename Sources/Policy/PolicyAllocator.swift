import Allocation
import Fmap

/// The device memory a `layout` call allocates from. The daemon implements it over its
/// shared allocation state (with whatever locking that needs); `AllocationStateAllocator`
/// serves single-threaded use such as eval and tests.
public protocol PolicyAllocator: AnyObject {
    /// Allocates `bytes` on `device`, rounded up to whole units, aligned to `alignment`.
    func allocate(device: UInt32, bytes: UInt64, alignment: UInt64) throws(AllocationError) -> SimpleExtent
    /// Returns an allocation the layout call will not keep.
    func release(_ extent: SimpleExtent)
    /// Bytes still free on `device`, as published to scripts before each call.
    func freeBytes(device: UInt32) -> UInt64
}

/// A `PolicyAllocator` owning one `AllocationState`; not thread-safe.
public final class AllocationStateAllocator: PolicyAllocator {
    /// Not checked for overlapping access at run time: one thread owns the allocator, and
    /// the check cost about a sixth of each allocation (the daemon's too, through
    /// `PolicyRuntime.layout(for:allocation:)`).
    @exclusivity(unchecked) public internal(set) var state: AllocationState

    public init(state: AllocationState) { self.state = state }

    public func allocate(device: UInt32, bytes: UInt64, alignment: UInt64) throws(AllocationError) -> SimpleExtent {
        try state.allocate(device: device, bytes: bytes, alignment: alignment)
    }

    public func release(_ extent: SimpleExtent) { state.release(extent) }

    public func freeBytes(device: UInt32) -> UInt64 {
        Int(device) < state.devices.count ? state.devices[Int(device)].freeBytes : 0
    }
}
