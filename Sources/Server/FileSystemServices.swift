import Allocation
import Fmap

/// Facts about a file that a layout decision needs.
public struct FileFacts: Sendable {
    public var path: String
    public var size: UInt64
    public var uid: UInt32
    public var gid: UInt32
    public var mode: UInt32

    public init(path: String, size: UInt64, uid: UInt32, gid: UInt32, mode: UInt32) {
        self.path = path
        self.size = size
        self.uid = uid
        self.gid = gid
        self.mode = mode
    }
}

/// Decides a new file's fmap, allocating from `allocation` (the policy's `layout` hook).
///
/// One instance per worker thread: implementations may hold a Lua state. On failure every
/// allocation the call made must have been released.
public protocol LayoutDecider: AnyObject {
    func layout(_ file: FileFacts, allocation: inout AllocationState) throws(NamespaceError) -> Fmap
}

/// Makes a worker's `LayoutDecider`; called once on each worker thread.
public typealias LayoutDeciderFactory = @Sendable () throws -> any LayoutDecider
