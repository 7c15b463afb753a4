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

    /// Where a new file lives (the policy's `placement` hook): DAX, or a passthrough file at a
    /// path relative to the staging directory.
    func placement(_ file: FileFacts) throws(NamespaceError) -> Placement

    /// Whether a passthrough file should be committed to DAX now that its last handle closed
    /// (the policy's `on_release` hook).
    func shouldCommitOnRelease(_ file: FileFacts) throws(NamespaceError) -> Bool
}

/// What a handler needs from the worker calling it.
struct WorkerContext {
    /// The worker's own policy instance.
    let policy: any WorkerPolicy
    /// The worker's descriptor on the connection (for passthrough ioctls and notifications).
    let channel: FuseChannel
}

/// Makes a worker's `WorkerPolicy`; called once on each worker thread.
public typealias WorkerPolicyFactory = @Sendable () throws -> any WorkerPolicy
