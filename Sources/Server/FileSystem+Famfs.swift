import Fmap
import FuseWire
import SystemPackage
import WireBytes

/// The famfs kernel protocol: when the kernel maps DAX memory itself it asks for each
/// file's fmap (GET_FMAP) and each device's path (GET_DAXDEV) instead of reading and writing.
extension FileSystem {
    /// The profile whose kernel maps files itself, or nil while the daemon serves data.
    public var famfsProfile: KernelProfile? { famfsState.withLock { $0 } }

    /// Why this file system cannot promise a valid fmap for every regular file under
    /// `profile` (the kernel fails an open whose GET_FMAP fails), or nil when it can.
    public func famfsObstacle(_ profile: KernelProfile) -> String? {
        if let staging {
            return "passthrough files are possible (--staging \(staging.path)), and the kernel cannot open them"
        }
        return state.withLock { state -> String? in
            for node in state.namespace.nodes.values {
                guard case .file(let content) = node.kind else { continue }
                let path = "/" + state.namespace.relativePath(of: node.id)
                switch content {
                case .unallocated:
                    return "\(path) has no memory yet, and the kernel cannot open a file without an fmap"
                case .passthrough:
                    return "\(path) is a passthrough file"
                case .dax(let fmap, _):
                    do {
                        try wireForm(of: fmap, for: profile).validate(limits: profile.fmapLimits, deviceSizes: deviceSizes)
                    } catch {
                        return "\(path) has an fmap this kernel would reject (\(error))"
                    }
                }
            }
            return nil
        }
    }

    /// From now on the kernel maps files itself under `profile`.
    public func activateFamfs(_ profile: KernelProfile) {
        famfsState.withLock { $0 = profile }
    }

    func wireForm(of fmap: Fmap, for profile: KernelProfile) -> Fmap {
        profile.unrollsInterleave ? fmap.unrolled() : fmap
    }

    /// GET_FMAP: the node's fmap in the form the active profile accepts, checked against its
    /// limits first. Anything the kernel would reject is answered with an error instead.
    func getFmap(_ unique: UInt64, _ id: UInt64) -> Response {
        guard let profile = famfsProfile else { return .error(unique, .noFunction) }
        let found = state.withLock { state in (state.namespace[id], "/" + state.namespace.relativePath(of: id)) }
        guard let node = found.0 else { return .error(unique, .noSuchFileOrDirectory) }
        let path = found.1
        guard let fmap = node.fmap else {
            logger.error("GET_FMAP \(path): the file has no fmap; the kernel will fail its open")
            return .error(unique, node.isDirectory ? .isDirectory : .noData)
        }
        let sent = wireForm(of: fmap, for: profile)
        do {
            try sent.validate(limits: profile.fmapLimits, deviceSizes: deviceSizes)
        } catch {
            logger.error("GET_FMAP \(path): not sent, the \(profile) kernel would reject it: \(error)")
            return .error(unique, .invalidArgument)
        }
        return .bytes(unique, FmapWireFormat.encode(sent))
    }

    /// GET_DAXDEV: the device behind the index in the request's node id, as the policy names it.
    func getDaxdev(_ unique: UInt64, index: UInt64, policy: any WorkerPolicy) -> Response {
        guard famfsProfile?.deviceRegistration == .pull else { return .error(unique, .noFunction) }
        guard index < UInt64(devices.count) else {
            logger.error("GET_DAXDEV for device index \(index): the file system has \(devices.count) device(s)")
            return .error(unique, .invalidArgument)
        }
        let name: String
        do {
            name = try policy.resolveDevice(UInt32(index), devicePath: devices[Int(index)].path.string)
        } catch {
            logger.error("GET_DAXDEV \(index): resolve_device failed: \(error)")
            return .error(unique, error.errno)
        }
        guard name.fitsNulTerminated(in: DaxdevReply.nameCapacity) else {
            logger.error("GET_DAXDEV \(index): device path \(name) is longer than 255 bytes")
            return .error(unique, .fileNameTooLong)
        }
        return .reply(unique, DaxdevReply(index: UInt16(index), name: name))
    }
}
