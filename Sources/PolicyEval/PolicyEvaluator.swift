import Allocation
import Fmap
import Logging
import Metadata
import Policy

/// Runs a policy as the daemon would, without mounting: a fresh allocation state over the
/// described devices (never handing out what the daemon keeps, unless a reserve is given),
/// then for each file in order `placement` (told size 0, as the daemon
/// asks when the file is created), `on_release` for passthrough files (told the final
/// size), and `layout` for files bound for DAX; then `resolve_device` for each device, as
/// the kernel's GET_DAXDEV would ask once it maps a file. Like the daemon, it lays out no
/// empty file and commits none. Every fmap is then checked against every other for
/// overlap, and device usage is summed from the fmaps themselves.
public enum PolicyEvaluator {
    public static func evaluate(policyPath: String, input: EvalInput, limits: PolicyLimits = PolicyLimits(),
                                logger: Logger = Logger(label: "famfs.policy.eval")) -> EvalReport {
        let devices = input.deviceFacts
        let allocator = AllocationStateAllocator(state: AllocationState(devices: input.devices.enumerated().map {
            DeviceSpace(size: $1.size, reservedBytes: input.reservedBytes(onDevice: $0))
        }))
        var files: [EvalReport.FileResult]
        var kernelPaths: [Result<String, PolicyError>?] = devices.map { _ in nil }
        var loadError: String?
        do {
            let runtime = try PolicyRuntime(policyPath: policyPath, devices: devices, config: input.config,
                                            limits: limits, allocator: allocator, logger: logger)
            var seen: Set<String> = []
            files = input.files.map { file in
                guard seen.insert(file.path).inserted else {
                    return EvalReport.FileResult(path: file.path, size: file.size, mode: file.mode,
                                                 error: "\(file.path) is listed twice; a path names one file")
                }
                return evaluate(file, runtime: runtime, allocator: allocator)
            }
            kernelPaths = devices.map { device in Result { () throws(PolicyError) in try runtime.resolveDevice(device.index) } }
            refuseSharedKernelPaths(&kernelPaths, policy: runtime)
        } catch {
            loadError = error.description
            files = input.files.map {
                EvalReport.FileResult(path: $0.path, size: $0.size, mode: $0.mode, error: error.description)
            }
        }
        var claims = DeviceRangeMap()
        for i in files.indices {
            guard let fmap = files[i].fmap else { continue }
            do { try claims.claim(fmap, owner: files[i].path) } catch {
                files[i].error = "overlaps another file: \(error)"
            }
        }
        let usage = zip(devices, kernelPaths).map { device, kernelPath in
            var usage = EvalReport.DeviceUsage(index: device.index, path: device.path, size: device.size,
                                               used: claims.usedBytes(onDevice: device.index))
            switch kernelPath {
            case .success(let path): usage.kernelPath = path
            case .failure(let error): usage.error = error.description
            case nil: break
            }
            return usage
        }
        let valid = loadError == nil && files.allSatisfy { $0.error == nil } && usage.allSatisfy { $0.error == nil }
        return EvalReport(valid: valid, devices: usage, files: files, loadError: loadError,
                          reservedBytes: input.devices.indices.map(input.reservedBytes(onDevice:)))
    }

    /// Turns each kernel path that an earlier device already resolved to into an error: the
    /// kernel would map both devices' memory from one.
    private static func refuseSharedKernelPaths(_ kernelPaths: inout [Result<String, PolicyError>?], policy: PolicyRuntime) {
        var firstUser: [String: Int] = [:]
        for index in kernelPaths.indices {
            guard case .success(let path) = kernelPaths[index] else { continue }
            if let earlier = firstUser[path] {
                kernelPaths[index] = .failure(PolicyError(
                    kind: .badReturn, file: policy.policyName, line: nil, hook: .resolveDevice,
                    message: "device \(index) resolves to \(path), as device \(earlier) does; the kernel would map both from one device"))
            } else {
                firstUser[path] = index
            }
        }
    }

    private static func evaluate(_ file: EvalInput.File, runtime: PolicyRuntime,
                                 allocator: AllocationStateAllocator) -> EvalReport.FileResult {
        let facts = FileFacts(path: file.path, size: file.size, uid: file.uid, gid: file.gid, mode: file.mode)
        var result = EvalReport.FileResult(path: file.path, size: file.size, mode: file.mode)
        // The daemon's rules for a path: one in the mount, and for a DAX file one the log holds.
        guard file.path.hasPrefix("/") else {
            result.error = "\(file.path) does not start with '/'; give the file's path in the mount, e.g. /\(file.path)"
            return result
        }
        var tooLongForTheLog: String?
        do throws(MediaFormatError) {
            _ = try RelativePath(String(file.path.dropFirst()))
        } catch {
            guard case .pathTooLong = error else {
                result.error = "\(error) (the daemon refuses such a path)"
                return result
            }
            tooLongForTheLog = "\(error): the daemon refuses it as a DAX file (ENAMETOOLONG)"
        }
        do {
            var created = facts
            created.size = 0
            // As in the daemon: a DAX file gets memory at its first size, so an empty one has
            // none, and an empty passthrough file is not committed (there is nothing to copy).
            switch try runtime.placement(for: created) {
            case .dax:
                result.placement = .dax
            case .passthrough(let backingPath):
                result.backingPath = backingPath
                result.placement = try runtime.shouldCommitOnRelease(facts) && file.size > 0 ? .committed : .passthrough
            }
            if result.placement == .passthrough { return result }
            // A DAX or committed file goes into the log, which must hold its path.
            if let tooLongForTheLog {
                result.error = tooLongForTheLog
                return result
            }
            if file.size == 0 { return result }
            result.fmap = try runtime.layout(for: facts, allocator: allocator)
        } catch {
            result.error = error.description
        }
        return result
    }
}
