import Synchronization
import SystemPackage

/// A passthrough file opened by the kernel: the staged file's descriptor and, when the
/// kernel does the I/O itself, the backing id it was registered under.
struct OpenFile: Sendable {
    let node: UInt64
    let descriptor: FileDescriptor
    let backingID: Int32?
    let writable: Bool
}

/// Open passthrough files by file handle (DAX files need no handle: fh 0).
final class OpenFiles: Sendable {
    private struct Table: Sendable {
        var files: [UInt64: OpenFile] = [:]
        var next: UInt64 = 1
    }

    private let table = Mutex(Table())

    func add(_ file: OpenFile) -> UInt64 {
        table.withLock { table in
            let handle = table.next
            table.next += 1
            table.files[handle] = file
            return handle
        }
    }

    subscript(handle: UInt64) -> OpenFile? { table.withLock { $0.files[handle] } }

    func remove(_ handle: UInt64) -> OpenFile? { table.withLock { $0.files.removeValue(forKey: handle) } }

    /// Handles open on `node`; `writable` counts only those opened for writing.
    func count(of node: UInt64, writable: Bool = false) -> Int {
        table.withLock { $0.files.values.count { $0.node == node && (!writable || $0.writable) } }
    }
}

/// Counters a test or operator reads through the `user.famfs.stats` xattr of the root.
final class RequestCounters: Sendable {
    private let values = Mutex([String: UInt64]())

    func add(_ name: String, _ amount: UInt64 = 1) { values.withLock { $0[name, default: 0] += amount } }

    var snapshot: [String: UInt64] { values.withLock { $0 } }
}
