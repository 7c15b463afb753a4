import CFuse
import Synchronization
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Staged files registered with the kernel for passthrough I/O, one registration per node
/// shared by all of its open handles.
///
/// The kernel binds an inode to one backing file while any handle on it is open and refuses
/// an open that names another, so every handle of a node gets the same backing id. The
/// registered descriptor is opened read-write, since later handles may write through it.
final class KernelBackings: Sendable {
    private struct Registration: Sendable {
        let id: Int32
        let descriptor: FileDescriptor
        var handles: Int
    }

    private let registrations = Mutex<[UInt64: Registration]>([:])

    /// The backing id of `node` for one more handle, registering `open()`'s descriptor on
    /// the `fuse` channel when the node has none yet. Throws the `Errno` of a failed open or
    /// registration.
    func acquire(_ node: UInt64, fuse: FileDescriptor, open: () throws -> FileDescriptor) throws -> Int32 {
        try registrations.withLock { registrations in
            if let existing = registrations[node] {
                registrations[node]!.handles += 1
                return existing.id
            }
            let descriptor = try open()
            let id = cfuse_ioctl_backing_open(fuse.rawValue, descriptor.rawValue)
            guard id > 0 else {
                let error = Errno(rawValue: errno)
                try? descriptor.close()
                throw error
            }
            registrations[node] = Registration(id: id, descriptor: descriptor, handles: 1)
            return id
        }
    }

    /// Whether `node` has a registration, that is, open handles doing passthrough I/O.
    func isRegistered(_ node: UInt64) -> Bool { registrations.withLock { $0[node] != nil } }

    /// One more handle on `node`'s registration if it still has one: the backing id and a
    /// duplicate of the registered descriptor (the handle's own, closed at its release).
    func join(_ node: UInt64) -> (id: Int32, descriptor: FileDescriptor)? {
        registrations.withLock { registrations in
            guard let existing = registrations[node], let copy = try? existing.descriptor.duplicate() else { return nil }
            registrations[node]!.handles += 1
            return (existing.id, copy)
        }
    }

    /// Drops one handle of `node`; the last one unregisters the backing file from `fuse`.
    func release(_ node: UInt64, fuse: FileDescriptor) {
        let finished: Registration? = registrations.withLock { registrations in
            guard var registration = registrations[node] else { return nil }
            registration.handles -= 1
            if registration.handles > 0 {
                registrations[node] = registration
                return nil
            }
            registrations[node] = nil
            return registration
        }
        guard let finished else { return }
        _ = cfuse_ioctl_backing_close(fuse.rawValue, UInt32(finished.id))
        try? finished.descriptor.close()
    }
}
