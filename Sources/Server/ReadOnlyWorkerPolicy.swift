import Allocation
import Fmap
import Policy

/// The worker policy of a daemon without a policy file (a follower): it lays out nothing,
/// names each device by the path the daemon opened, and keeps every file DAX.
final class ReadOnlyWorkerPolicy: WorkerPolicy {
    func layout(_ file: FileFacts, allocation: inout AllocationState) throws(NamespaceError) -> Fmap {
        throw NamespaceError(.readOnlyFileSystem, "\(file.path): this daemon follows the log; only the leader allocates")
    }

    func resolveDevice(_ index: UInt32, devicePath: String) throws(NamespaceError) -> String { devicePath }

    func placement(_ file: FileFacts) throws(NamespaceError) -> Placement { .dax }

    func shouldCommitOnRelease(_ file: FileFacts) throws(NamespaceError) -> Bool { false }
}
