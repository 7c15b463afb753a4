import Allocation
import Fmap
import Policy

/// The policy decisions the server asks for, as one worker sees them.
///
/// One instance per worker thread: implementations may hold a Lua state.
public protocol WorkerPolicy: AnyObject {
    /// A new file's fmap, allocated from `allocation` (the policy's `layout` hook). The caller
    /// drops `allocation` on failure, so nothing the call allocated stays taken.
    func layout(_ file: FileFacts, allocation: inout AllocationState) throws(NamespaceError) -> Fmap

    /// The device path the kernel is told for `index` (the policy's `resolve_device` hook);
    /// `devicePath` is the path the daemon opened.
    func resolveDevice(_ index: UInt32, devicePath: String) throws(NamespaceError) -> String
}

/// Makes a worker's `WorkerPolicy`; called once on each worker thread.
public typealias WorkerPolicyFactory = @Sendable () throws -> any WorkerPolicy
